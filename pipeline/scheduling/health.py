"""Schedule health (pure): is each schedule still doing its job?

Per schedule and window (the last day, the last week): slots the cron expected,
copies enqueued, completed, failed, and slots skipped. And `late`:

* a slot was due (fired or skipped) at least `lateAfter` minutes ago and no copy
  has *succeeded* since it: "no successful copy since the 10:00 slot"; or
* the runner stopped firing it: an enabled schedule whose `nextRun` passed more
  than `lateAfter` minutes ago, or that carries an `error`.

`lateAfter` (minutes, per schedule) defaults to half the cron's period, at least
one minute: an hourly job is late 30 minutes after its slot without a success.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pipeline.domain.record import Record
from pipeline.domain.schedule import Schedule
from pipeline.scheduling.checks import zone_of
from pipeline.scheduling.cron import CronError, next_after

DAY, WEEK = timedelta(days=1), timedelta(days=7)
MAX_COUNTED = 10_000  # expected slots are counted up to this (a per-second cron over a week)


@dataclass(frozen=True)
class Seen:
    """What the files say about one schedule (times aware)."""

    due: tuple[datetime, ...] = ()        # slots fired (from the copy ids) and skip times
    enqueued: tuple[datetime, ...] = ()   # when copies were enqueued
    skipped: tuple[datetime, ...] = ()
    succeeded: tuple[datetime, ...] = ()  # when copies ended, by status
    failed: tuple[datetime, ...] = ()


@dataclass(frozen=True)
class Counts:
    expected: int
    enqueued: int
    completed: int
    failed: int
    skipped: int


def late_after(schedule: Schedule, now: datetime) -> timedelta:
    minutes = schedule.late_after
    if minutes is not None and minutes > 0:
        return timedelta(minutes=minutes)
    try:
        zone = zone_of(schedule)
        first = next_after(_cron(schedule), zone, now)
        period = next_after(_cron(schedule), zone, first) - first
    except (CronError, ValueError, OverflowError):
        return timedelta(hours=1)
    return max(period / 2, timedelta(minutes=1))


def lateness(schedule: Schedule, seen: Seen, now: datetime) -> str | None:
    """Why the schedule is late, or None."""
    if not schedule.enabled:
        return None
    if error := schedule.written("error"):
        return f"stopped firing: {error}"
    grace = late_after(schedule, now)
    next_run = _time(schedule.next_run)
    if next_run and now - next_run > grace:
        return f"stopped firing: nextRun {schedule.next_run} passed and did not advance"
    due = [moment for moment in seen.due if moment + grace <= now]
    if not due:
        return None
    slot = max(due)
    if any(end >= slot for end in seen.succeeded):
        return None
    failed = sum(end >= slot for end in seen.failed)
    skipped = sum(at >= slot for at in seen.skipped)
    return (f"no successful copy since the slot of {slot.isoformat()} "
            f"({failed} failed, {skipped} skipped since)")


def counts(schedule: Schedule, seen: Seen, now: datetime, span: timedelta) -> Counts:
    start = now - span

    def within(moments: tuple[datetime, ...]) -> int:
        return sum(start < moment <= now for moment in moments)

    return Counts(expected_slots(schedule, start, now), within(seen.enqueued),
                  within(seen.succeeded), within(seen.failed), within(seen.skipped))


def expected_slots(schedule: Schedule, start: datetime, end: datetime) -> int:
    """Cron slots in (start, end] (0 for a disabled or broken schedule)."""
    if not schedule.enabled or schedule.written("error"):
        return 0
    try:
        zone = zone_of(schedule)
        slot, count = next_after(_cron(schedule), zone, start), 0
        while slot <= end and count < MAX_COUNTED:
            count += 1
            slot = next_after(_cron(schedule), zone, slot)
    except (CronError, ValueError, OverflowError):
        return 0
    return count


def _cron(schedule: Schedule) -> str:
    return str(schedule.written("cron"))


def report(schedule: Schedule, seen: Seen, now: datetime) -> dict[str, Any]:
    """One schedule's health as `schedule list --json` and the report show it."""
    return {"id": schedule.written("id"), "late": lateness(schedule, seen, now),
            "lateAfterMinutes": round(late_after(schedule, now).total_seconds() / 60, 2),
            "lastDay": asdict(counts(schedule, seen, now, DAY)),
            "lastWeek": asdict(counts(schedule, seen, now, WEEK))}


def seen_from(schedule_id: str, events: list[dict[str, Any]], records: list[Record]) -> Seen:
    """A schedule's Seen from event records (logs/events.jsonl) and history records."""
    due, enqueued, skipped = [], [], []
    for event in events:
        if event.get("scheduleId") != schedule_id or not (at := _time(event.get("at"))):
            continue
        if event.get("event") == "schedule_fired":
            enqueued.append(at)
            due.append(slot_of(str(event.get("taskId") or "")) or at)
        elif event.get("event") == "schedule_skipped":
            skipped.append(at)
            due.append(at)
    ends = [(r.status, _time(r.ended_at)) for r in records
            if r.task.scheduled_id == schedule_id]
    return Seen(tuple(due), tuple(enqueued), tuple(skipped),
                tuple(end for status, end in ends if end and status == "success"),
                tuple(end for status, end in ends if end and status != "success"))


def slot_of(copy_id: str) -> datetime | None:
    """The slot of a copy `<scheduleId>-<slot epoch ms>`."""
    tail = copy_id.rsplit("-", 1)[-1]
    if not tail.isdigit():
        return None
    return datetime.fromtimestamp(int(tail) / 1000, UTC)


def _time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None
