from datetime import UTC, datetime, timedelta

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.stages.retry import Finish, Requeue, backoff, next_step

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SETTINGS = Settings(max_retries=2, retry_delay=30)


def running(attempts=0, **extra):
    return Attempt.from_dict({"id": "t1", "prompt": "x", "attempts": attempts,
                              "startedAt": "2026-11-25T11:59:00Z", "attempt": attempts + 1,
                              "pid": 42, **extra})


def test_backoff_doubles():
    assert [backoff(30, n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]


def test_a_failure_goes_back_with_backoff_and_reason():
    step = next_step(running(0), Verdict(Outcome.ERROR, "boom", retryable=True), SETTINGS, NOW)
    assert isinstance(step, Requeue)
    task = step.task.to_dict()
    assert task["attempts"] == 1 and task["lastError"] == "boom"
    assert task["notBefore"] == (NOW + timedelta(seconds=30)).isoformat(timespec="milliseconds")
    assert "pid" not in task and "startedAt" not in task and "attempt" not in task


def test_second_retry_waits_twice_as_long():
    step = next_step(running(1), Verdict(Outcome.ERROR, "boom", retryable=True), SETTINGS, NOW)
    assert step.task.to_dict()["notBefore"].startswith("2026-11-25T12:01:00")


def test_after_max_retries_it_finishes():
    step = next_step(running(2), Verdict(Outcome.ERROR, "boom", retryable=True), SETTINGS, NOW)
    assert step == Finish(attempts=3)


def test_task_max_retries_overrides_settings():
    step = next_step(running(0, maxRetries=0), Verdict(Outcome.TIMEOUT, "t", retryable=True),
                     SETTINGS, NOW)
    assert step == Finish(attempts=1)


def test_final_errors_are_not_retried():
    assert next_step(running(0), Verdict(Outcome.ERROR, "max turns"), SETTINGS, NOW) == \
        Finish(attempts=1)


def test_uncounted_attempts_keep_the_count_and_run_without_delay():
    verdict = Verdict(Outcome.INTERRUPTED, "stop", retryable=True, counts=False)
    step = next_step(running(1), verdict, SETTINGS, NOW)
    assert step.task.to_dict()["attempts"] == 1 and "notBefore" not in step.task.to_dict()


def test_a_crash_counts_but_reruns_at_once():
    verdict = Verdict(Outcome.INTERRUPTED, "crash", retryable=True)
    step = next_step(running(0), verdict, SETTINGS, NOW)
    assert step.task.to_dict()["attempts"] == 1 and "notBefore" not in step.task.to_dict()


def test_success_finishes():
    assert next_step(running(1), Verdict(Outcome.SUCCESS), SETTINGS, NOW) == Finish(attempts=2)


def test_a_usage_limit_pauses_to_the_end_of_a_stated_minute(tmp_path):
    from pipeline.agent.usage_limit import UsageLimit
    from pipeline.stages.archive import Archive
    from pipeline.stages.settle import Settler
    from pipeline.storage.events import EventLog
    from pipeline.storage.layout import Layout
    from pipeline.storage.queue import TaskQueue

    layout = Layout(tmp_path)
    layout.ensure()
    settings = Settings(usage_limit_margin=0)
    events = EventLog(layout.events, lambda: NOW)
    settler = Settler(layout, settings, TaskQueue(layout, settings),
                      Archive(layout, settings, events), events)
    stated = UsageLimit("resets 12:30pm", NOW.replace(minute=30), to_the_minute=True)
    exact = UsageLimit("limit|epoch", NOW.replace(minute=30), to_the_minute=False)
    for limit, expected in ((stated, NOW.replace(minute=31)), (exact, NOW.replace(minute=30))):
        verdict = Verdict(Outcome.ERROR, "limit", retryable=True, counts=False,
                          usage_limit=limit)
        settler.settle(running(0), verdict, NOW)
        assert settler.queue.state.paused_until() == expected
