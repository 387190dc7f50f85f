"""`status` orders the queue in linear time (D19): counted comparisons, not a clock."""

from datetime import UTC, datetime

from pipeline.cli.status import _upcoming
from pipeline.domain.task import Task

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


class Counted(Task):
    __slots__ = ()
    comparisons = 0

    def __eq__(self, other):
        Counted.comparisons += 1
        return Task.__eq__(self, other)

    __hash__ = None


def test_upcoming_compares_tasks_a_linear_number_of_times():
    count = 2000
    ready = [Counted(id=f"r{i}", prompt="p") for i in range(count)]
    waiting = [Counted(id=f"w{i}", prompt="p", not_before="2026-11-25T13:00:00+00:00")
               for i in range(count)]
    Counted.comparisons = 0
    order = _upcoming(ready + waiting, NOW)
    assert [t.id for t in order] == [t.id for t in ready + waiting]
    assert Counted.comparisons <= 10 * count
