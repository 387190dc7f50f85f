"""Spend budgets with a fixed clock: per-task cap, daily and rolling windows."""

from datetime import UTC, datetime, timedelta

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import RunFacts
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.stages.budget import Caps, startable, stop_for, with_attempt_cost
from pipeline.stages.retry import Finish, Requeue, next_step
from tests.support.model import attempt, task

NOW = datetime(2026, 11, 28, 15, 0, tzinfo=UTC).astimezone()
FAILED = Verdict(Outcome.ERROR, "it went wrong", retryable=True)


def test_attempt_costs_add_up() -> None:
    entry = with_attempt_cost(attempt(), RunFacts(cost_usd=0.25))
    entry = with_attempt_cost(entry, RunFacts(cost_usd=0.5))
    assert entry.to_dict()["totalCostUsd"] == 0.75
    assert with_attempt_cost(entry, RunFacts()) is entry  # no cost reported: unchanged


def test_a_task_over_its_cap_is_not_retried() -> None:
    settings = Settings(max_retries=5)
    under = attempt(maxTaskCostUsd=1.0, totalCostUsd=0.9)
    over = attempt(maxTaskCostUsd=1.0, totalCostUsd=1.2)
    assert isinstance(next_step(under, FAILED, settings, NOW), Requeue)
    step = next_step(over, FAILED, settings, NOW)
    assert isinstance(step, Finish) and step.outcome is Outcome.BUDGET
    assert "maxTaskCostUsd" in step.error
    default_cap = Settings(max_retries=5, max_task_cost_usd=1.0)
    assert next_step(attempt(totalCostUsd=1.5), FAILED, default_cap, NOW).outcome \
        is Outcome.BUDGET
    assert isinstance(next_step(attempt(), FAILED, default_cap, NOW), Requeue)


def test_daily_cap_stops_until_midnight() -> None:
    caps = Caps(daily_usd=2.0)
    yesterday = NOW - timedelta(days=1)
    spends = [(NOW - timedelta(hours=1), 1.5), (yesterday, 5.0)]
    assert stop_for(spends, 0.0, NOW, caps) is None  # yesterday does not count
    stop = stop_for(spends, 0.5, NOW, caps)  # a task waiting for a retry spent 0.5
    assert stop is not None and stop.window == "daily"
    assert stop.until == (NOW.replace(hour=0, minute=0, second=0) + timedelta(days=1))
    assert stop.fields()["spentUsd"] == 2.0


def test_rolling_window_lifts_when_old_spend_leaves() -> None:
    caps = Caps(window_usd=3.0, window_hours=5)
    spends = [(NOW - timedelta(hours=4), 2.0), (NOW - timedelta(hours=1), 1.0),
              (NOW - timedelta(hours=6), 9.0)]
    stop = stop_for(spends, 0.0, NOW, caps)
    assert stop is not None and stop.window == "5h"
    assert stop.until == NOW + timedelta(hours=1)  # the 2.0 of 4 h ago leaves then
    assert stop_for(spends, 0.0, stop.until, caps) is None


def test_only_high_priority_bypasses_and_only_when_allowed() -> None:
    caps = Caps(daily_usd=1.0)
    stop = stop_for([(NOW, 1.0)], 0.0, NOW, caps)
    queued = [task(id="n"), task(id="h", priority="high")]
    assert startable(queued, None, False) == queued
    assert startable(queued, stop, False) == []
    assert [t.id for t in startable(queued, stop, True)] == ["h"]


def test_the_task_fields_are_validated() -> None:
    from pipeline.domain.validation import validate

    errors = validate({"prompt": "x", "maxTaskCostUsd": 0, "totalCostUsd": -1}, Settings())
    assert sorted(e.field for e in errors) == ["maxTaskCostUsd", "totalCostUsd"]
    assert validate({"prompt": "x", "maxTaskCostUsd": 2.5}, Settings()) == []
