"""`status --why`: one line for every reason nothing runs (a table test)."""

from datetime import UTC, datetime

import pytest

from pipeline.cli.why import Facts, explain, summary
from pipeline.domain.task import Task

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
READY = (Task(id="t1"),)
RETRY = (Task(id="t1", not_before="2026-11-28T14:02:00+00:00", last_error="exit 1"),)
AUTH = (Task(id="t1", not_before="2026-11-28T14:02:00+00:00",
             last_error="Invalid API key · Please run /login"),)
BUDGET = {"window": "daily", "spentUsd": 5.1, "limitUsd": 5.0,
          "until": "2026-11-29T00:00:00+00:00"}

CASES = [
    ("something runs", Facts(running="t0", queued=READY), None),
    ("nothing waits", Facts(), None),
    ("daemon down", Facts(queued=READY, alive=False, heartbeat_at="2026-11-28T03:12:00+00:00"),
     "daemon not alive since 2026-11-28T03:12:00+00:00 (last heartbeat)"),
    ("daemon never started", Facts(queued=READY, alive=False),
     "daemon not running: it never started on this root (claude-runner run)"),
    ("weekly limit", Facts(queued=READY, paused_until="2026-11-28T18:00:00+00:00",
                           pause_class="weekly", pause_task="t7"),
     "paused by a weekly limit until 2026-11-28T18:00:00+00:00 (seen in task t7)"),
    ("limit without a class", Facts(queued=READY, paused_until="2026-11-28T18:00:00+00:00",
                                    pause_reason="session limit"),
     "paused until 2026-11-28T18:00:00+00:00 (session limit)"),
    ("paused by hand, no end", Facts(queued=READY, paused_until="2126-11-04T12:00:00+00:00",
                                     pause_reason="by hand"),
     "paused until `claude-runner resume` (by hand)"),
    ("budget", Facts(queued=READY, budget=BUDGET),
     "daily budget reached ($5.1 of $5.0) until 2026-11-29T00:00:00+00:00"),
    ("retry wait", Facts(queued=RETRY),
     "head task t1 waits for its retry at 2026-11-28T14:02:00+00:00"),
    ("unauthenticated", Facts(queued=AUTH),
     "agent unauthenticated since its last attempt (task t1: Invalid API key · Please run "
     "/login); retry at 2026-11-28T14:02:00+00:00"),
    ("ready, about to start", Facts(queued=READY),
     "task t1 is ready; the daemon starts it at its next look"),
]


@pytest.mark.parametrize(("facts", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_why(facts: Facts, expected: str | None) -> None:
    assert explain(facts, NOW) == expected


def test_the_plain_line_covers_the_quiet_cases() -> None:
    assert summary(Facts(running="t0"), NOW) == "why: running t0"
    skipped = Facts(last_skip=("nightly", "2026-11-28T11:00:00+00:00",
                               "previous run still queued or running"))
    assert summary(skipped, NOW) == (
        "why: nothing waits: the queue is empty; schedule nightly skipped its slot at "
        "2026-11-28T11:00:00+00:00 (previous run still queued or running)")
    assert summary(Facts(queued=READY, budget=BUDGET), NOW).startswith("why: daily budget")
