"""pipeline.schedules.plan: firing, catching up, skipping, jitter and errors (fixed clock)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.domain.schedule import Schedule, schedule_entries
from pipeline.domain.task import Task
from pipeline.scheduling import plan as planning
from pipeline.scheduling.cron import next_after, zone_for
from pipeline.scheduling.plan import (
    REMOVE,
    SCHEDULE_ONLY,
    SKIP_ACTIVE,
    SKIP_FULL,
    SKIP_MISSED,
    Decision,
    apply_changes,
)

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")


def at(*fields, zone=BERLIN):
    return datetime(*fields, tzinfo=zone)


def schedule(**fields):
    base = {
        "id": "hourly",
        "name": "Hourly check",
        "cron": "0 * * * *",
        "prompt": "check things",
        "timezone": "Europe/Berlin",
        "role": "coach",
        "workspace": "/srv/project",
        "custom": {"kept": [1, 2]},
    }
    base.update(fields)
    return {k: v for k, v in base.items() if v is not REMOVE}


def plan(schedules, *args, **kwargs):
    """planning.plan on the file's entries; a fired copy is a Task, compared here as JSON."""
    decisions = planning.plan(schedule_entries(schedules), *args, **kwargs)
    assert all(d.fire is None or isinstance(d.fire, Task) for d in decisions)
    return [replace(d, fire=d.fire and d.fire.to_dict()) for d in decisions]


def task_copy(schedule, slot):
    return planning.task_copy(Schedule.from_dict(schedule), slot).to_dict()


def tick(schedules, now, active=frozenset(), full=False, grace=60.0):
    """Plan, apply the changes, and return (new schedules, decisions)."""
    decisions = plan(schedules, now, set(active), full, grace)
    updated = list(schedules)
    for decision in decisions:
        updated[decision.index] = apply_changes(updated[decision.index], decision.changes)
    return updated, decisions


def only(decisions) -> Decision:
    assert len(decisions) == 1, decisions
    return decisions[0]


def seen(now, **fields):
    """A schedule as it looks after the runner first saw it just before `now`'s slot."""
    return tick([schedule(**fields)], now - timedelta(seconds=1))[0]


# --- first sight -------------------------------------------------------------------------


def test_new_schedule_gets_next_run_and_does_not_fire_at_once():
    decision = only(plan([schedule()], at(2026, 3, 1, 10, 5), set(), False))
    assert decision == Decision(0, "hourly", {"nextRun": "2026-03-01T11:00:00+01:00"}, None, None)


def test_new_schedule_exactly_on_a_slot_waits_for_the_next():
    decision = only(plan([schedule()], at(2026, 3, 1, 10, 0), set(), False))
    assert decision.changes == {"nextRun": "2026-03-01T11:00:00+01:00"}
    assert decision.fire is None


def test_nothing_changes_nothing_is_returned():
    schedules, _ = tick([schedule(), schedule(id="other", cron="@daily")], at(2026, 3, 1, 10, 5))
    assert plan(schedules, at(2026, 3, 1, 10, 30), set(), False) == []
    assert plan(schedules, at(2026, 3, 1, 10, 59, 59), set(), False) == []


def test_a_steady_file_is_never_rewritten():
    schedules = [
        schedule(nextRun="2026-03-01T11:00:00+01:00", lastRun="2026-03-01T10:00:00+01:00"),
        schedule(id="off", enabled=False),
    ]
    for minute in range(0, 60, 7):
        assert plan(schedules, at(2026, 3, 1, 10, minute), set(), False) == []


def test_times_are_written_with_the_zone_offset():
    decisions = plan([schedule(timezone="America/New_York")], at(2026, 7, 1, 12, 5), set(), False)
    assert only(decisions).changes["nextRun"] == "2026-07-01T07:00:00-04:00"


# --- firing ------------------------------------------------------------------------------


def test_due_schedule_fires_a_copy():
    schedules = seen(at(2026, 3, 1, 11, 0))
    schedules, decisions = tick(schedules, at(2026, 3, 1, 11, 0, 4))
    decision = only(decisions)
    assert decision.changes == {
        "nextRun": "2026-03-01T12:00:00+01:00",
        "lastRun": "2026-03-01T11:00:00+01:00",
    }
    assert decision.skip_reason is None
    slot_ms = int(at(2026, 3, 1, 11, 0).timestamp() * 1000)
    assert decision.fire == {
        "id": f"hourly-{slot_ms}",
        "name": "Hourly check",
        "prompt": "check things",
        "role": "coach",
        "workspace": "/srv/project",
        "custom": {"kept": [1, 2]},
        "scheduled": True,
        "scheduledId": "hourly",
    }
    assert schedules[0]["custom"] == {"kept": [1, 2]}


def test_task_copy_drops_every_schedule_only_field():
    full = schedule(
        enabled=True,
        lastRun="x",
        nextRun="y",
        lastSkip={"at": "z", "reason": "r"},
        error="e",
        skipCount=3,
        jitterSeconds=5,
        catchUp=False,
        priority="high",
        timeout=60000,
        allowedTools=["Read"],
    )
    copy = task_copy(full, at(2026, 3, 1, 11, 0, 0))
    assert not (set(copy) & (SCHEDULE_ONLY - {"id"}))
    assert copy["priority"] == "high" and copy["timeout"] == 60000
    copy["allowedTools"].append("Write")
    assert full["allowedTools"] == ["Read"]  # a deep copy


def test_task_copy_for_a_manual_run_keeps_milliseconds():
    moment = datetime(2026, 3, 1, 10, 0, 0, 123456, tzinfo=UTC)
    assert task_copy(schedule(), moment)["id"] == "hourly-1772359200123"


def test_restart_never_fires_the_same_slot_twice():
    schedules = seen(at(2026, 3, 1, 11, 0))
    schedules, decisions = tick(schedules, at(2026, 3, 1, 11, 0, 2))
    assert only(decisions).fire is not None
    # the runner restarts and reads back what it wrote
    for later in (at(2026, 3, 1, 11, 0, 2), at(2026, 3, 1, 11, 0, 30), at(2026, 3, 1, 11, 59)):
        assert plan(schedules, later, set(), False) == []


def test_crash_before_saving_gives_the_same_copy_id():
    schedules = seen(at(2026, 3, 1, 11, 0))
    first = only(plan(schedules, at(2026, 3, 1, 11, 0, 2), set(), False))
    again = only(plan(schedules, at(2026, 3, 1, 11, 0, 9), set(), False))
    assert first.fire["id"] == again.fire["id"]


def test_last_run_at_or_after_the_slot_only_advances():
    schedules = [schedule(nextRun="2026-03-01T11:00:00+01:00", lastRun="2026-03-01T11:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 11, 0, 5), set(), False))
    assert decision.fire is None and decision.skip_reason is None
    assert decision.changes == {"nextRun": "2026-03-01T12:00:00+01:00"}


def test_missed_slots_collapse_into_one_firing():
    schedules = [schedule(nextRun="2026-02-26T11:00:00+01:00", lastRun="2026-02-26T10:00:00+01:00")]
    now = at(2026, 3, 1, 9, 30)  # three days of downtime
    schedules, decisions = tick(schedules, now)
    decision = only(decisions)
    assert decision.fire is not None
    assert decision.changes == {
        "nextRun": "2026-03-01T10:00:00+01:00",
        "lastRun": "2026-03-01T09:00:00+01:00",  # the latest missed slot
    }
    assert plan(schedules, now + timedelta(minutes=1), set(), False) == []


def test_collapse_of_a_long_downtime_of_a_seconds_cron():
    schedules = [schedule(cron="*/10 * * * * *", nextRun="2026-01-01T00:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 9, 30, 25), set(), False))
    assert decision.changes["lastRun"] == "2026-03-01T09:30:20+01:00"
    assert decision.changes["nextRun"] == "2026-03-01T09:30:30+01:00"


def test_catch_up_false_skips_a_stale_slot():
    schedules = [schedule(catchUp=False, nextRun="2026-03-01T09:00:00+01:00")]
    schedules, decisions = tick(schedules, at(2026, 3, 1, 9, 45))
    decision = only(decisions)
    assert decision.fire is None
    assert decision.skip_reason == SKIP_MISSED
    assert decision.changes == {
        "nextRun": "2026-03-01T10:00:00+01:00",
        "lastSkip": {"at": "2026-03-01T09:45:00+01:00", "reason": SKIP_MISSED},
        "skipCount": 1,
    }
    assert "lastRun" not in schedules[0]


def test_catch_up_false_still_fires_within_the_grace():
    schedules = [schedule(catchUp=False, nextRun="2026-03-01T09:00:00+01:00")]
    assert only(plan(schedules, at(2026, 3, 1, 9, 0, 50), set(), False)).fire is not None
    late = only(plan(schedules, at(2026, 3, 1, 9, 0, 50), set(), False, catch_up_grace=30))
    assert late.skip_reason == SKIP_MISSED


def test_catch_up_false_fires_when_the_latest_missed_slot_is_fresh():
    schedules = [schedule(catchUp=False, nextRun="2026-02-20T09:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 9, 0, 10), set(), False))
    assert decision.fire is not None
    assert decision.changes["lastRun"] == "2026-03-01T09:00:00+01:00"


# --- skipping ----------------------------------------------------------------------------


def test_no_firing_while_a_copy_is_queued_or_running():
    schedules = [schedule(nextRun="2026-03-01T11:00:00+01:00", skipCount=2)]
    schedules, decisions = tick(schedules, at(2026, 3, 1, 11, 0, 3), active={"hourly"})
    decision = only(decisions)
    assert decision.fire is None
    assert decision.skip_reason == SKIP_ACTIVE
    assert decision.changes == {
        "nextRun": "2026-03-01T12:00:00+01:00",
        "lastSkip": {"at": "2026-03-01T11:00:03+01:00", "reason": SKIP_ACTIVE},
        "skipCount": 3,
    }
    assert plan(schedules, at(2026, 3, 1, 11, 30), {"hourly"}, False) == []


def test_another_schedule_being_active_does_not_matter():
    schedules = [schedule(nextRun="2026-03-01T11:00:00+01:00")]
    assert only(plan(schedules, at(2026, 3, 1, 11, 0, 3), {"other"}, False)).fire is not None


def test_skip_while_the_queue_is_full():
    schedules = [schedule(nextRun="2026-03-01T11:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 11, 0, 3), set(), True))
    assert decision.fire is None
    assert decision.skip_reason == SKIP_FULL
    assert decision.changes["lastSkip"]["reason"] == SKIP_FULL
    assert decision.changes["skipCount"] == 1


def test_high_priority_fires_while_the_queue_is_full():
    schedules = [schedule(priority="high", nextRun="2026-03-01T11:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 11, 0, 3), set(), True))
    assert decision.fire is not None and decision.fire["priority"] == "high"


def test_high_priority_still_waits_for_its_previous_copy():
    schedules = [schedule(priority="high", nextRun="2026-03-01T11:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 3, 1, 11, 0, 3), {"hourly"}, True))
    assert decision.skip_reason == SKIP_ACTIVE


# --- jitter ------------------------------------------------------------------------------


def jittered_next_run(schedule_id, jitter):
    """nextRun of a new hourly schedule seen at 09:59:59: the 10:00 slot plus its jitter."""
    new = [schedule(id=schedule_id, jitterSeconds=jitter)]
    decision = only(plan(new, at(2026, 3, 1, 9, 59, 59), set(), False))
    return datetime.fromisoformat(decision.changes["nextRun"])


@pytest.mark.parametrize("jitter", [1, 7, 300, 3599])
def test_jitter_is_within_bounds(jitter):
    for number in range(40):
        offset = jittered_next_run(f"job-{number}", jitter) - at(2026, 3, 1, 10, 0)
        assert timedelta(0) <= offset < timedelta(seconds=jitter)


def test_jitter_is_stable_and_spreads_schedules():
    offsets = [jittered_next_run(f"job-{n}", 600) for n in range(20)]
    assert offsets == [jittered_next_run(f"job-{n}", 600) for n in range(20)]
    assert len(set(offsets)) > 10
    # pinned: a SHA-256 of the id, not Python's per-process salted hash()
    assert jittered_next_run("job-0", 600).isoformat() == "2026-03-01T10:07:12+01:00"


def test_jittered_firing_keeps_the_slot_in_last_run_and_the_copy_id():
    schedules = seen(at(2026, 3, 1, 11, 0), id="job-0", jitterSeconds=600)
    firing = datetime.fromisoformat(schedules[0]["nextRun"])
    assert firing == at(2026, 3, 1, 11, 7, 12)
    assert plan(schedules, firing - timedelta(seconds=1), set(), False) == []
    schedules, decisions = tick(schedules, firing)
    decision = only(decisions)
    assert decision.changes == {
        "nextRun": "2026-03-01T12:07:12+01:00",
        "lastRun": "2026-03-01T11:00:00+01:00",
    }
    assert decision.fire["id"] == f"job-0-{int(at(2026, 3, 1, 11, 0).timestamp()) * 1000}"
    assert plan(schedules, firing + timedelta(minutes=5), set(), False) == []


def test_zero_or_tiny_jitter_is_no_jitter():
    assert jittered_next_run("job-0", 0) == at(2026, 3, 1, 10, 0)
    assert jittered_next_run("job-0", 0.5) == at(2026, 3, 1, 10, 0)


# --- stored times ------------------------------------------------------------------------


def test_legacy_times_without_offset_are_local_in_the_schedule_zone():
    schedules = [
        schedule(cron="1 * * * *", lastRun="2026-02-26T06:01:04", nextRun="2026-02-26 07:01:00")
    ]
    assert only(plan(schedules, at(2026, 2, 26, 7, 0, 59), set(), False)).fire is None
    decision = only(plan(schedules, at(2026, 2, 26, 7, 1, 5), set(), False))
    assert decision.fire is not None
    assert decision.changes == {
        "nextRun": "2026-02-26T08:01:00+01:00",
        "lastRun": "2026-02-26T07:01:00+01:00",
    }


def test_legacy_next_run_in_the_future_is_rewritten_once_in_iso_form():
    schedules = [schedule(nextRun="2026-02-26 08:00:00")]
    schedules, decisions = tick(schedules, at(2026, 2, 26, 7, 30))
    assert only(decisions).changes == {"nextRun": "2026-02-26T08:00:00+01:00"}
    assert plan(schedules, at(2026, 2, 26, 7, 31), set(), False) == []


def test_only_last_run_catches_up_from_it():
    schedules = [schedule(lastRun="2026-02-26 06:00:00")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 20), set(), False))
    assert decision.fire is not None
    assert decision.changes["lastRun"] == "2026-02-26T09:00:00+01:00"


def test_only_last_run_not_yet_due_writes_next_run():
    schedules = [schedule(lastRun="2026-02-26T09:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 20), set(), False))
    assert decision.fire is None
    assert decision.changes == {"nextRun": "2026-02-26T10:00:00+01:00"}


def test_unreadable_next_run_is_replaced():
    decision = only(plan([schedule(nextRun="soon")], at(2026, 2, 26, 9, 20), set(), False))
    assert decision.changes == {"nextRun": "2026-02-26T10:00:00+01:00"}


def test_edited_cron_replaces_a_future_next_run():
    schedules = [schedule(cron="30 9 * * *", nextRun="2026-02-26T10:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 20), set(), False))
    assert decision.changes == {"nextRun": "2026-02-26T09:30:00+01:00"}


def test_a_past_next_run_that_is_no_slot_of_the_cron_does_not_fire():
    schedules = [schedule(cron="30 * * * *", nextRun="2026-02-26T09:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 10), set(), False))
    assert decision.fire is None
    assert decision.changes == {"nextRun": "2026-02-26T09:30:00+01:00"}


def test_a_next_run_far_in_the_future_after_a_clock_fix_is_pulled_back():
    schedules = [schedule(nextRun="2031-01-01T00:00:00+01:00")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 10), set(), False))
    assert decision.changes == {"nextRun": "2026-02-26T10:00:00+01:00"}


# --- enabled and errors ------------------------------------------------------------------


@pytest.mark.parametrize("enabled", [False, "false", "no", 0])
def test_disabled_schedules_never_fire(enabled):
    schedules = [schedule(enabled=enabled, lastRun="2026-02-26T06:00:00+01:00")]
    assert plan(schedules, at(2026, 2, 26, 9, 20), set(), False) == []


@pytest.mark.parametrize("enabled", [True, "true", None, REMOVE])
def test_enabled_or_missing_means_enabled(enabled):
    schedules = [schedule(enabled=enabled)]
    assert only(plan(schedules, at(2026, 2, 26, 9, 20), set(), False)).changes["nextRun"]


def test_disabling_removes_next_run_so_enabling_does_not_fire_at_once():
    schedules = [schedule(enabled=False, nextRun="2026-02-26T10:00:00+01:00")]
    schedules, decisions = tick(schedules, at(2026, 2, 26, 9, 20))
    assert only(decisions).changes == {"nextRun": REMOVE}
    assert "nextRun" not in schedules[0]
    schedules[0]["enabled"] = True
    decision = only(plan(schedules, at(2026, 3, 5, 12, 20), set(), False))
    assert decision.fire is None
    assert decision.changes == {"nextRun": "2026-03-05T13:00:00+01:00"}


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"cron": "*/0 * * * *"}, "step 0"),
        ({"cron": "61 * * * *"}, "out of range"),
        ({"cron": "* * * *"}, "4 fields"),
        ({"cron": REMOVE}, "cron is missing"),
        ({"cron": 5}, "empty"),
        ({"timezone": "Mars/Olympus"}, "unknown timezone"),
        ({"id": REMOVE}, "id is missing"),
        ({"id": "has space"}, "id is missing or invalid"),
        ({"id": "x" * 115}, "id is missing or invalid"),
        ({"prompt": ""}, "prompt"),
        ({"jitterSeconds": -1}, "jitterSeconds"),
        ({"jitterSeconds": "10"}, "jitterSeconds"),
    ],
)
def test_errors_are_reported_once(fields, reason):
    schedules = [schedule(**fields)]
    schedules, decisions = tick(schedules, at(2026, 2, 26, 9, 20))
    decision = only(decisions)
    assert set(decision.changes) == {"error"}
    assert reason in decision.changes["error"]
    assert decision.fire is None
    assert plan(schedules, at(2026, 2, 26, 9, 30), set(), False) == []


def test_error_on_a_disabled_schedule_is_reported_too():
    decision = only(plan([schedule(enabled=False, cron="bad")], at(2026, 2, 26), set(), False))
    assert "error" in decision.changes


def test_a_changed_error_is_rewritten():
    schedules = [schedule(cron="61 * * * *", error="minute field: something old")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 20), set(), False))
    assert "61 is out of range" in decision.changes["error"]


def test_fixing_the_error_removes_it_and_schedules():
    schedules = [schedule(cron="*/0 * * * *", error="old")]
    schedules, _ = tick(schedules, at(2026, 2, 26, 9, 20))
    schedules[0]["cron"] = "*/30 * * * *"
    schedules, decisions = tick(schedules, at(2026, 2, 26, 9, 21))
    assert only(decisions).changes == {"error": REMOVE, "nextRun": "2026-02-26T09:30:00+01:00"}
    assert "error" not in schedules[0]


def test_duplicate_ids_mark_the_second_schedule():
    schedules = [schedule(), schedule(cron="@daily")]
    decisions = plan(schedules, at(2026, 2, 26, 9, 20), set(), False)
    assert [d.index for d in decisions] == [0, 1]
    assert "nextRun" in decisions[0].changes
    assert "duplicate id" in decisions[1].changes["error"]


def test_one_bad_schedule_does_not_stop_the_rest():
    schedules = [
        "not a schedule",
        schedule(id="bad", cron="nope"),
        schedule(id="good", nextRun="2026-02-26T09:00:00+01:00"),
    ]
    decisions = plan(schedules, at(2026, 2, 26, 9, 0, 5), set(), False)
    assert [(d.index, d.schedule_id) for d in decisions] == [(1, "bad"), (2, "good")]
    assert decisions[1].fire is not None


def test_unknown_fields_are_never_in_the_changes():
    schedules = [schedule(nextRun="2026-02-26T09:00:00+01:00", extra="keep", description="d")]
    decision = only(plan(schedules, at(2026, 2, 26, 9, 0, 5), set(), True))
    assert set(decision.changes) <= {"nextRun", "lastRun", "lastSkip", "skipCount", "error"}
    assert decision.fire is None


def test_naive_now_is_refused():
    with pytest.raises(ValueError):
        plan([schedule()], datetime(2026, 2, 26), set(), False)


def test_machine_zone_is_used_without_a_timezone(monkeypatch):
    monkeypatch.setenv("TZ", "America/New_York")
    decision = only(plan([schedule(timezone=REMOVE)], at(2026, 7, 1, 12, 5), set(), False))
    assert decision.changes["nextRun"] == "2026-07-01T07:00:00-04:00"


# --- daylight saving time, end to end ----------------------------------------------------


def run_day(schedules, start, hours, step=timedelta(minutes=10)):
    """Tick every `step` for `hours` hours; return the fired copies."""
    fired = []
    now = start
    while now < start + timedelta(hours=hours):
        schedules, decisions = tick(schedules, now)
        fired += [d.fire for d in decisions if d.fire]
        now += step
    return schedules, fired


def test_hourly_across_fall_back_fires_every_real_hour():
    start = datetime(2026, 10, 24, 21, 55, tzinfo=UTC)  # 23:55 CEST on the 24th
    _, fired = run_day([schedule()], start, 24.5)  # the 25th has 25 hours
    slots = sorted(int(f["id"].rsplit("-", 1)[1]) for f in fired)
    assert len(slots) == 25 == len(set(slots))
    assert {b - a for a, b in zip(slots, slots[1:], strict=False)} == {3_600_000}


def test_daily_0230_across_spring_forward_fires_once_at_three():
    start = at(2026, 3, 28, 12, 0)
    schedules, fired = run_day([schedule(cron="30 2 * * *")], start, 24)
    assert len(fired) == 1
    assert schedules[0]["lastRun"] == "2026-03-29T03:00:00+02:00"
    assert schedules[0]["nextRun"] == "2026-03-30T02:30:00+02:00"


def test_new_york_0130_across_fall_back_fires_once():
    start = at(2026, 10, 31, 12, 0, zone=NEW_YORK)
    schedules, fired = run_day(
        [schedule(cron="30 1 * * *", timezone="America/New_York")], start, 24
    )
    assert len(fired) == 1
    assert schedules[0]["lastRun"] == "2026-11-01T01:30:00-04:00"
    assert schedules[0]["nextRun"] == "2026-11-02T01:30:00-05:00"


# --- properties --------------------------------------------------------------------------


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["*/5 * * * *", "0 * * * *", "30 2 * * *", "*/20 * * * * *", "0 9 * * 1-5"]),
    st.sampled_from(["Europe/Berlin", "America/New_York", "UTC"]),
    st.lists(st.integers(min_value=1, max_value=4 * 3600), min_size=5, max_size=40),
    st.integers(min_value=0, max_value=120),
)
def test_random_ticks_never_fire_a_slot_twice_or_before_its_time(cron, zone, steps, jitter):
    schedules = [schedule(cron=cron, timezone=zone, jitterSeconds=jitter)]
    now = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    fired_slots = []
    for step in steps:
        now += timedelta(seconds=step)
        schedules, decisions = tick(schedules, now)
        for decision in decisions:
            if decision.fire:
                slot = datetime.fromisoformat(decision.changes["lastRun"])
                assert slot <= now
                fired_slots.append(slot)
        assert plan(schedules, now, set(), False) == []  # idempotent on the result
    assert fired_slots == sorted(set(fired_slots))


@pytest.mark.parametrize("cron", ["*/7 * * * *", "0 * * * *", "15 1,2,3 * * *"])
@pytest.mark.parametrize("zone", ["Europe/Berlin", "America/New_York"])
def test_frequent_ticks_fire_every_slot_through_fall_back(cron, zone):
    schedules = [schedule(cron=cron, timezone=zone)]
    start = datetime(2026, 10, 24, 20, 0, tzinfo=UTC)
    schedules, fired = run_day(schedules, start, 36, step=timedelta(seconds=50))
    expected, moment = [], start
    while (moment := next_after(cron, zone_for(zone), moment)) < start + timedelta(hours=36):
        expected.append(moment.astimezone(UTC))
    # the first slot after the first tick is the first that fires
    got = [datetime.fromtimestamp(int(f["id"].rsplit("-", 1)[1]) / 1000, UTC) for f in fired]
    cutoff = start + timedelta(hours=36, minutes=-1)  # the last tick is within a minute of it
    assert [g for g in got if g < cutoff] == [e for e in expected if e < cutoff]


# --- whenFull: "defer" and catchUpWithin (issue 14) ----------------------------------------


def test_defer_fires_the_skipped_slot_once_when_the_queue_has_room():
    schedules = [schedule(whenFull="defer", nextRun="2026-03-01T11:00:00+01:00")]
    schedules, decisions = tick(schedules, at(2026, 3, 1, 11, 0, 3), full=True)
    assert only(decisions).skip_reason == SKIP_FULL
    assert schedules[0]["deferredSlot"] == "2026-03-01T11:00:00+01:00"
    # still full: waits; a copy still active: waits
    assert tick(schedules, at(2026, 3, 1, 11, 20), full=True)[1] == []
    assert tick(schedules, at(2026, 3, 1, 11, 20), active={"hourly"})[1] == []
    schedules, decisions = tick(schedules, at(2026, 3, 1, 11, 30))
    fired = only(decisions).fire
    assert fired["id"] == f"hourly-{int(at(2026, 3, 1, 11, 0).timestamp() * 1000)}"
    assert "deferredSlot" not in schedules[0] and "whenFull" not in fired
    assert schedules[0]["lastRun"] == "2026-03-01T11:00:00+01:00"
    assert tick(schedules, at(2026, 3, 1, 11, 31))[1] == []  # once


def test_skip_is_the_default_when_full():
    schedules = [schedule(nextRun="2026-03-01T11:00:00+01:00")]
    schedules, _ = tick(schedules, at(2026, 3, 1, 11, 0, 3), full=True)
    assert "deferredSlot" not in schedules[0]


def test_catch_up_within_runs_only_a_young_missed_slot():
    young = [schedule(catchUpWithin="2h", lastRun="2026-03-01T09:00:00+01:00",
                      nextRun="2026-03-01T10:00:00+01:00")]
    assert only(tick(young, at(2026, 3, 1, 11, 30))[1]).fire is not None  # 11:00, 30 min late
    old = [schedule(catchUpWithin="20m", lastRun="2026-03-01T09:00:00+01:00",
                    nextRun="2026-03-01T10:00:00+01:00")]
    assert only(tick(old, at(2026, 3, 1, 11, 30))[1]).skip_reason == SKIP_MISSED
    seconds = [schedule(catchUpWithin=3600, lastRun="2026-03-01T09:00:00+01:00",
                        nextRun="2026-03-01T10:00:00+01:00")]
    assert only(tick(seconds, at(2026, 3, 1, 11, 30))[1]).fire is not None


def test_bad_health_options_are_the_schedule_error():
    for fields, word in (({"whenFull": "later"}, "whenFull"),
                         ({"catchUpWithin": "soon"}, "catchUpWithin"),
                         ({"lateAfter": 0}, "lateAfter")):
        decision = only(plan([schedule(**fields)], at(2026, 3, 1, 11), set(), False))
        assert word in decision.changes["error"] and decision.fire is None
