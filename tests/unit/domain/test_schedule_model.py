"""The typed Schedule: a scheduled.json entry in, a value out, the same JSON back; entries
that are no schedules stay in the file exactly as they were."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from pipeline.domain.attempt import Attempt
from pipeline.domain.schedule import (
    NotASchedule,
    Schedule,
    is_enabled,
    schedule_entries,
    schedules_in,
)
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.stages.schedule import Scheduler, active_schedule_ids
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

RAW = {"id": "coach", "name": "Coach", "cron": "0 * * * *", "prompt": "plan",
       "workspace": "/srv/p", "enabled": "off", "timezone": "UTC",
       "lastRun": "2026-03-01T09:00:00+00:00", "nextRun": "2026-03-01T10:00:00+00:00",
       "lastSkip": {"at": "2026-03-01T08:00:00+00:00", "reason": "queue full"},
       "error": "old", "skipCount": 3, "jitterSeconds": 30, "catchUp": False,
       "catchUpWithin": "2h", "whenFull": "defer", "deferredSlot": "2026-03-01T08:00:00+00:00",
       "lateAfter": 15, "priority": "high",
       # task fields for the copies, and a field nobody knows
       "role": "ceo-coach", "timeout": 60000, "allowedTools": ["Read"], "custom": {"k": [1]}}


def test_a_schedule_round_trips_with_its_copies_task_fields_and_unknown_fields():
    schedule = Schedule.from_dict(RAW)
    assert (schedule.id, schedule.cron, schedule.timezone, schedule.skips) == \
        ("coach", "0 * * * *", "UTC", 3)
    assert schedule.when_full == "defer" and schedule.catch_up is False
    assert schedule.last_skip == RAW["lastSkip"] and schedule.late_after == 15
    assert set(schedule.extra) == {"role", "timeout", "allowedTools", "custom"}
    assert schedule.to_dict() == RAW
    assert not schedule.enabled  # "off": the one rule, is_enabled


@pytest.mark.parametrize(("written", "enabled"), [
    (None, True), (True, True), (False, False), ("off", False), ("yes", True), (0, False)])
def test_enabled_is_decided_by_is_enabled(written, enabled):
    raw = {"id": "s"} if written is None else {"id": "s", "enabled": written}
    assert Schedule.from_dict(raw).enabled is enabled is is_enabled(written)


def test_values_that_do_not_fit_are_kept_as_written_for_the_checks():
    raw = {"id": 5, "cron": None, "jitterSeconds": "abc", "whenFull": None, "skipCount": -1,
           "timezone": 7}
    schedule = Schedule.from_dict(raw)
    assert schedule.id is None and schedule.label == "5" and schedule.written("id") == 5
    assert schedule.cron is None and schedule.unfit("cron")
    assert schedule.jitter_seconds is None and schedule.written("jitterSeconds") == "abc"
    assert schedule.unfit("whenFull") and schedule.skips == 0
    assert not schedule.unfit("custom") and schedule.written("lastRun") is None
    assert schedule.to_dict() == raw


GARBAGE = [42, "text", None, ["a", "list"], True]


@pytest.mark.parametrize("item", GARBAGE)
def test_what_is_not_an_object_is_not_a_schedule(item):
    with pytest.raises(NotASchedule):
        Schedule.from_dict(item)


def test_entries_keep_positions_and_schedules_in_drops_what_is_no_schedule():
    items = [42, {"id": "a"}, None, {"id": "b"}]
    entries = schedule_entries(items)
    assert entries[0] is None and entries[2] is None
    assert [s.id for s in schedules_in(items)] == ["a", "b"]


def test_active_schedule_ids_from_typed_queue_and_running_attempt():
    queued = [Task(id="a-1", scheduled_id="a"), Task(id="x")]
    running = Attempt(task=Task(id="b-1", scheduled_id="b"))
    assert active_schedule_ids(queued, running) == {"a", "b"}
    assert active_schedule_ids([], None) == set()


def test_a_tick_fires_a_task_copy_and_leaves_garbage_entries_exactly_as_they_were(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    schedule = {"zzz": "first", "id": "hourly", "cron": "0 * * * *", "timezone": "UTC",
                "prompt": "check", "role": "coach", "custom": {"k": [1]},
                "lastRun": "2026-03-01T09:00:00+00:00", "nextRun": "2026-03-01T10:00:00+00:00"}
    JsonFile(layout.scheduled, "tasks").save({"tasks": [*GARBAGE, schedule, {"odd": 1}]})
    queue = TaskQueue(layout, Settings())
    now = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)

    events = EventLog(layout.events, lambda: now)
    wake = Scheduler(layout, queue, 60.0, events).tick(now, [], None, False)

    items = json.loads(layout.scheduled.read_text(encoding="utf-8"))["tasks"]
    assert items[:5] == GARBAGE
    assert list(items[5])[:2] == ["zzz", "id"]  # the user's key order is kept
    assert items[5]["lastRun"] == "2026-03-01T10:00:00+00:00"
    assert items[6]["odd"] == 1 and "error" in items[6]  # an object: checked as a schedule
    assert wake == datetime(2026, 3, 1, 11, 0, tzinfo=UTC)
    [copy] = queue.tasks()
    assert copy.id == f"hourly-{int(datetime(2026, 3, 1, 10, tzinfo=UTC).timestamp()) * 1000}"
    assert (copy.scheduled, copy.scheduled_id, copy.prompt) == (True, "hourly", "check")
    assert copy.role == "coach" and copy.extra == {"custom": {"k": [1]}, "zzz": "first"}
    # nothing due now: no write, and the wake is still the next firing
    assert Scheduler(layout, queue, 60.0, events).tick(now, [copy], None, False) == wake


def test_init_merge_reads_the_file_as_schedules_and_leaves_garbage_alone():
    from pipeline.scheduling.selfevolution import loop_schedules, merge

    wanted = loop_schedules("/srv/p", "docs/plan.md", "en", True)
    mine = {"zzz": 1, **{**wanted[0], "enabled": False}}
    existing = [42, mine, {"id": 7}]
    result = merge(existing, wanted, force=False)
    assert result.conflicts == ["opc-coach-planning"]  # "zzz" differs: nothing changed
    assert existing == [42, mine, {"id": 7}]
    existing[1] = {**wanted[0], "enabled": "off"}
    result = merge(existing, wanted, force=False)
    assert result.enabled == ["opc-coach-planning"] and existing[1]["enabled"] is True
    assert existing[0] == 42 and existing[2] == {"id": 7} and len(existing) == 7
