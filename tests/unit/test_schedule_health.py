"""Schedule health with a fixed clock: counts per window, `late`, stopped firing."""

from datetime import UTC, datetime, timedelta

from pipeline.domain.record import Record
from pipeline.domain.schedule import Schedule
from pipeline.scheduling.health import (
    Seen,
    counts,
    expected_slots,
    late_after,
    lateness,
    report,
    seen_from,
    slot_of,
)

NOW = datetime(2026, 11, 28, 12, 10, tzinfo=UTC)
HOURLY = {"id": "h", "cron": "0 * * * *", "timezone": "UTC",
          "nextRun": "2026-11-28T13:00:00+00:00"}


def sched(raw: dict) -> Schedule:
    return Schedule.from_dict(raw)


def hours_ago(n: float) -> datetime:
    return NOW - timedelta(hours=n)


def test_late_after_defaults_to_half_the_period() -> None:
    assert late_after(sched(HOURLY), NOW) == timedelta(minutes=30)
    assert late_after(sched({**HOURLY, "cron": "* * * * * *"}), NOW) == timedelta(minutes=1)
    assert late_after(sched({**HOURLY, "lateAfter": 5}), NOW) == timedelta(minutes=5)


def test_a_success_since_the_last_due_slot_is_healthy() -> None:
    seen = Seen(due=(hours_ago(1.17),), succeeded=(hours_ago(1.1),))
    assert lateness(sched(HOURLY), seen, NOW) is None


def test_failing_copies_make_it_late() -> None:
    seen = Seen(due=(hours_ago(2.17), hours_ago(1.17)), succeeded=(hours_ago(2.1),),
                failed=(hours_ago(1.1),))
    reason = lateness(sched(HOURLY), seen, NOW)
    assert reason and "no successful copy since" in reason and "1 failed" in reason


def test_a_slot_younger_than_late_after_is_not_late_yet() -> None:
    seen = Seen(due=(NOW - timedelta(minutes=10),), succeeded=(hours_ago(3),))
    assert lateness(sched(HOURLY), seen, NOW) is None


def test_skipped_slots_make_it_late() -> None:
    seen = Seen(due=(hours_ago(1.17),), skipped=(hours_ago(1.17),))
    assert "1 skipped" in lateness(sched(HOURLY), seen, NOW)


def test_stopped_firing() -> None:
    stuck = {**HOURLY, "nextRun": "2026-11-28T11:00:00+00:00"}
    assert lateness(sched(stuck), Seen(), NOW).startswith("stopped firing: nextRun")
    broken = sched({**HOURLY, "error": "bad cron"})
    assert lateness(broken, Seen(), NOW) == "stopped firing: bad cron"
    assert lateness(sched({**stuck, "enabled": False}), Seen(), NOW) is None


def test_counts_per_window() -> None:
    seen = Seen(enqueued=(hours_ago(1), hours_ago(30)), succeeded=(hours_ago(0.9),),
                failed=(hours_ago(29),), skipped=(hours_ago(2),))
    hourly = sched(HOURLY)
    day, week = counts(hourly, seen, NOW, timedelta(days=1)), counts(hourly, seen, NOW,
                                                                     timedelta(days=7))
    assert (day.expected, day.enqueued, day.completed, day.failed, day.skipped) == \
        (24, 1, 1, 0, 1)
    assert (week.expected, week.enqueued, week.failed) == (168, 2, 1)
    assert expected_slots(sched({**HOURLY, "enabled": False}), hours_ago(24), NOW) == 0


def test_seen_from_files() -> None:
    slot = datetime(2026, 11, 28, 11, 0, tzinfo=UTC)
    copy = f"h-{int(slot.timestamp() * 1000)}"
    assert slot_of(copy) == slot
    events = [{"event": "schedule_fired", "scheduleId": "h", "taskId": copy,
               "at": "2026-11-28T11:00:01+00:00"},
              {"event": "schedule_skipped", "scheduleId": "h", "at": "2026-11-28T12:00:00+00:00"},
              {"event": "schedule_fired", "scheduleId": "other", "taskId": "x-1", "at": "x"}]
    records = [Record.from_dict({"id": copy, "scheduledId": "h", "status": "failed",
                                 "failedAt": "2026-11-28T11:02:00+00:00"})]
    seen = seen_from("h", events, records)
    assert seen.due[0] == slot and len(seen.skipped) == 1 and len(seen.failed) == 1
    assert report(sched(HOURLY), seen, NOW)["lastDay"]["failed"] == 1
