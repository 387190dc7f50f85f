"""Pure planning for tasks/scheduled.json: which schedules fire now and what to write back.

`plan()` looks at the schedules (`Schedule` values, position by position as
`schedule_entries` reads ``{"tasks": [...]}``) at one instant and returns a `Decision` for
every schedule where something changes: fields to set or remove (`changes`, applied to the
file's entry with `apply_changes`), and possibly a task copy to enqueue (`fire`, a `Task`).
Unknown fields are never touched, and when nothing changes there is no decision, so the caller never
rewrites an unchanged file (users edit it by hand).

The rules, per schedule:
* Every schedule is checked (id, prompt, cron, timezone, jitterSeconds; see
  `pipeline.scheduling.checks`); a problem is written to its `error` field (only when the text
  differs) and it does not fire; once fixed, `error` is removed.
* Only enabled schedules fire (`enabled` missing or null means enabled). A disabled schedule
  loses its `nextRun`, so that enabling it later does not fire a long-missed slot at once.
* An enabled schedule without a usable `nextRun` gets one: the first slot after `lastRun` when
  it has one (so a lost `nextRun` still catches up), else the first slot after now (a new
  schedule fires at its next slot, not at once). A `nextRun` in the future that is not the next
  slot (the cron, timezone or jitter was edited, or the clock was wrong) is replaced by the next
  slot; a past one that is not a slot of the current cron is replaced without firing.
* When `nextRun` has passed, the latest slot not after now fires once, however many slots were
  missed while the runner was down (they collapse into one firing); `lastRun` = that slot,
  `nextRun` = the next slot. It does not fire, and only `nextRun` moves on, when `lastRun` is
  already at or after that slot (a restart never fires a slot twice).
* Instead of firing, the slot is skipped (`nextRun` moves on, `lastSkip` = {at, reason},
  `skipCount` + 1) when: `catchUp` is false and the firing is more than `catch_up_grace` seconds
  late ("missed while down"); a copy of the schedule is still queued or running ("previous run
  still queued or running"); the queue is full and the schedule's priority is not "high"
  ("queue full").
* `jitterSeconds` adds a stable per-schedule delay in [0, jitterSeconds) whole seconds, from a
  SHA-256 of the id, to every firing: `nextRun` includes it, `lastRun` and the copy's id keep
  the slot. So several hourly jobs do not all start on the same second.
* Times are written as ISO 8601 with the offset of the schedule's zone, to the second. Values
  without an offset (``2026-02-26T06:01:04``, ``2026-02-26 07:01:00``, as the Node runner wrote
  them) are read as local time in the schedule's zone.

For the caller: the copy's id is deterministic (``<id>-<slot epoch ms>``), so enqueueing it is
idempotent where the queue rejects duplicate ids; a crash between enqueueing and saving the
decision cannot produce two copies of one slot.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pipeline.domain.schedule import Schedule
from pipeline.domain.task import NotATask, Task
from pipeline.scheduling.checks import duration_seconds, schedule_problem, zone_of
from pipeline.scheduling.cron import CronError
from pipeline.scheduling.slots import (
    epoch_ms,
    format_time,
    is_slot,
    jitter_seconds,
    latest_slot,
    next_slot,
    read_time,
)

__all__ = [
    "REMOVE",
    "SCHEDULE_ONLY",
    "SKIP_ACTIVE",
    "SKIP_FULL",
    "SKIP_MISSED",
    "Decision",
    "apply_changes",
    "copy_fields",
    "plan",
    "task_copy",
]


class _Remove:
    """The sentinel type of REMOVE."""

    def __repr__(self) -> str:
        return "REMOVE"


REMOVE: Any = _Remove()
"""A value in `Decision.changes` meaning: delete this key from the schedule."""

SCHEDULE_ONLY = frozenset(
    {
        "id",
        "cron",
        "enabled",
        "lastRun",
        "nextRun",
        "lastSkip",
        "error",
        "skipCount",
        "timezone",
        "jitterSeconds",
        "catchUp",
        "catchUpWithin",
        "whenFull",
        "deferredSlot",
        "lateAfter",
    }
)
"""Schedule fields that are not copied into the task."""

SKIP_ACTIVE = "previous run still queued or running"
SKIP_FULL = "queue full"
SKIP_MISSED = "missed while down"

@dataclass(frozen=True)
class Decision:
    index: int  # position in the "tasks" list
    schedule_id: str
    changes: dict[str, Any]  # fields to set; a value of REMOVE deletes the key
    fire: Task | None  # the task copy to enqueue, or None
    skip_reason: str | None  # set when a due slot was skipped


@dataclass(frozen=True)
class _Tick:
    now: datetime  # UTC
    active: set[str]
    queue_full: bool
    grace: float
    task_problem: Callable[[dict[str, Any]], str | None] | None = None


def plan(
    schedules: list[Schedule | None],
    now: datetime,
    active_schedule_ids: set[str],
    queue_full: bool,
    catch_up_grace: float = 60.0,
    task_problem: Callable[[dict[str, Any]], str | None] | None = None,
) -> list[Decision]:
    """What to change and fire at `now`; only schedules where something changes appear.

    `schedules` holds None where the file's entry is no schedule (it is left alone).
    `task_problem(copy_fields(...))` says why the task a schedule would enqueue is invalid (the same
    checks as an inbox task: workspace, workspace_roots, allow_auto_approve, ...); such a
    schedule gets that as its `error` and does not fire."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("plan needs an aware `now`")
    tick = _Tick(now.astimezone(UTC), set(active_schedule_ids), queue_full, catch_up_grace,
                 task_problem)
    seen: set[str] = set()
    decisions = []
    for index, schedule in enumerate(schedules):
        if schedule is not None:
            decision = _plan_one(index, schedule, seen, tick)
            if decision is not None:
                decisions.append(decision)
    return decisions


def copy_fields(schedule: Schedule, slot: datetime) -> dict[str, Any]:
    """The task copy for `schedule` at `slot` as an inbox file would hold it (checked as one
    with `checks.copy_problem`)."""
    schedule_id = schedule.id
    written = schedule.to_dict()
    fields = {k: copy.deepcopy(v) for k, v in written.items() if k not in SCHEDULE_ONLY}
    return {
        "id": f"{schedule_id}-{epoch_ms(slot)}",
        **fields,
        "scheduled": True,
        "scheduledId": schedule_id,
    }


def task_copy(schedule: Schedule, slot: datetime) -> Task:
    """The task to enqueue for `schedule` at `slot` (also used by `schedule run ID`).
    Raises NotATask when the copy's id is not a task id (`copy_problem` says so first)."""
    return Task.from_dict(copy_fields(schedule, slot))


def apply_changes(schedule: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """A new dict: the file's entry `schedule` with `changes` applied (REMOVE deletes the
    key; the other keys keep their order, as the user wrote them)."""
    result = dict(schedule)
    for key, value in changes.items():
        if value is REMOVE:
            result.pop(key, None)
        else:
            result[key] = value
    return result


def _plan_one(index: int, schedule: Schedule, seen: set[str], tick: _Tick) -> Decision | None:
    schedule_id = schedule.label
    problem = schedule_problem(schedule, seen)
    if problem is None and tick.task_problem is not None:
        problem = tick.task_problem(copy_fields(schedule, tick.now))
    if schedule.id is not None:
        seen.add(schedule.id)
    changes: dict[str, Any] = {"error": problem or REMOVE}
    fire = skip_reason = None
    if problem is None and schedule.enabled:
        try:
            timing, fire, skip_reason = _timing(schedule, schedule_id, tick)
            changes.update(timing)
        except (CronError, NotATask) as exc:  # e.g. an expression that never matches
            changes, fire, skip_reason = {"error": str(exc)}, None, None
    elif problem is None:
        changes["nextRun"] = REMOVE
    changes = _effective(schedule, changes)
    if not changes and fire is None:
        return None
    return Decision(index, schedule_id, changes, fire, skip_reason)


def _timing(schedule: Schedule, schedule_id: str, tick: _Tick):
    """(changes, fire, skip_reason) for an enabled, valid schedule."""
    expr = schedule.cron or ""
    zone = zone_of(schedule)
    jitter = timedelta(seconds=jitter_seconds(schedule_id, schedule.jitter_seconds))
    clock = tick.now - jitter  # slots are compared with this clock; firings are slot + jitter
    changes: dict[str, Any] = {"nextRun": format_time(next_slot(expr, zone, clock) + jitter, zone)}
    last = read_time(schedule.last_run, zone)
    due = _due(expr, zone, clock, read_time(schedule.next_run, zone), last, jitter)
    if due is None:
        return _deferred(schedule, schedule_id, zone, changes, tick)
    slot = latest_slot(expr, zone, due, clock)
    if last is not None and last >= slot:
        return changes, None, None
    reason = _skip_reason(schedule, schedule_id, slot + jitter, tick)
    if reason is not None:
        changes["lastSkip"] = {"at": format_time(tick.now, zone), "reason": reason}
        changes["skipCount"] = schedule.skips + 1
        if reason == SKIP_FULL and schedule.when_full == "defer":
            changes["deferredSlot"] = format_time(slot, zone)
        return changes, None, reason
    changes["lastRun"] = format_time(slot, zone)
    changes["deferredSlot"] = REMOVE  # a newer slot fires: it covers a deferred one
    return changes, task_copy(schedule, slot.astimezone(zone)), None


def _deferred(schedule: Schedule, schedule_id: str, zone: tzinfo, changes: dict[str, Any],
              tick: _Tick):
    """`whenFull: "defer"`: the slot a full queue skipped fires once the gate is open
    again (the queue back at or below the low watermark) and no copy is active."""
    slot = read_time(schedule.deferred_slot, zone)
    if slot is None or tick.queue_full or schedule_id in tick.active:
        return changes, None, None
    changes["deferredSlot"] = REMOVE
    last = read_time(schedule.last_run, zone)
    if last is None or slot > last:
        changes["lastRun"] = format_time(slot, zone)
    return changes, task_copy(schedule, slot.astimezone(zone)), None


def _due(expr, zone, clock, stored, last, jitter) -> datetime | None:
    """The oldest slot that is due now, or None when nothing is due."""
    if stored is not None:
        slot = stored - jitter
        return slot if slot <= clock and is_slot(expr, zone, slot) else None
    if last is not None:
        slot = next_slot(expr, zone, last)
        return slot if slot <= clock else None
    return None


def _skip_reason(schedule: Schedule, schedule_id: str, firing: datetime, tick: _Tick
                 ) -> str | None:
    late = (tick.now - firing).total_seconds()
    if schedule.catch_up is False and late > tick.grace:
        return SKIP_MISSED
    within = duration_seconds(schedule.catch_up_within)  # checked before planning
    if within is not None and late > max(within, tick.grace):
        return SKIP_MISSED
    if schedule_id in tick.active:
        return SKIP_ACTIVE
    if tick.queue_full and schedule.priority != "high":
        return SKIP_FULL
    return None


def _effective(schedule: Schedule, changes: dict[str, Any]) -> dict[str, Any]:
    """Only the changes that really change something (to what the file holds)."""
    written = schedule.to_dict()
    return {
        key: value
        for key, value in changes.items()
        if (key in written if value is REMOVE else written.get(key, REMOVE) != value)
    }
