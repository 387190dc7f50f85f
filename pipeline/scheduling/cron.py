"""Cron expressions on croniter, with time zones and daylight saving time made explicit.

Pure: no clock, no files. Time always comes in as an aware datetime; results are aware
datetimes in the schedule's zone. Expressions and zone names are parsed and validated by
`pipeline.scheduling.cron_syntax` (the accepted syntax is described there); its `CronError`,
`normalize` and `zone_for` are importable from here too.

Day of month and day of week
    When both are restricted (neither is ``*``), a day matches if EITHER matches, as in standard
    cron: ``0 9 13 * fri`` runs on every 13th and on every Friday. (croniter's ``day_or=True``.)

Daylight saving time -- slots are wall-clock times in the schedule's zone:
    * Expressions whose hour field is ``*`` (every hour: ``0 * * * *``, ``*/15 * * * *``, ...)
      follow real time: they match every instant whose local wall clock matches. On the
      spring-forward day the skipped wall times simply do not occur (an hourly job still runs
      every 60 real minutes); in the repeated fall-back hour both passes match, so an hourly job
      still runs every 60 real minutes, never twice in one real hour and never with a 2 h gap.
    * Expressions with fixed hours (``30 2 * * *``, ``0 9 * * mon-fri``, ``0 */6 * * *``) name
      times of day and run at most once per wall-clock time:
        - a time that falls into the spring-forward gap runs once, at the end of the gap (a
          02:30 job runs at 03:00 on that day, Europe/Berlin and America/New_York alike); a
          slot that coincides with the gap end is the same firing, not a second one;
        - a time that occurs twice at fall-back runs only at its first occurrence (a 01:30 job
          in New York runs at 01:30 EDT, not again at 01:30 EST).
      This is what Vixie cron does, and what croniter does too; we compute it ourselves, though,
      from croniter's pure wall-clock arithmetic (naive datetimes) and the zone's offsets,
      because croniter's own aware mode silently depends on which fold the start time has.

All comparisons are made in UTC: two aware datetimes that share a ZoneInfo compare by wall time
and ignore `fold`, which is wrong inside the repeated hour.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache

from croniter import CroniterBadDateError, croniter

from pipeline.scheduling.cron_syntax import CronError, normalize, zone_for

__all__ = ["CronError", "next_after", "next_n", "normalize", "zone_for"]

_HOUR = 1  # index of the hour field in croniter's expansion
_MAX_STEPS = 1000  # DST transitions and skipped repeats crossed before we give up
_DAY = timedelta(days=1)
_SECOND_DELTA = timedelta(seconds=1)


@lru_cache(maxsize=256)
def _parse(expr: str) -> tuple[str, bool]:
    """The croniter form of `expr` and whether its hours are fixed (see the module doc)."""
    normalized = normalize(expr)
    expanded, _ = croniter.expand(normalized)
    return normalized, expanded[_HOUR] != ["*"]


def next_after(expr: str, zone: tzinfo, after: datetime) -> datetime:
    """The first slot of `expr` strictly after `after`, as an aware datetime in `zone`."""
    if after.tzinfo is None or after.utcoffset() is None:
        raise ValueError("next_after needs an aware datetime")
    normalized, fixed_hours = _parse(expr)
    moment, inclusive = after.astimezone(UTC), False
    if fixed_hours:
        moment, inclusive = _leave_repeat(zone, moment, inclusive)
    for _ in range(_MAX_STEPS):
        local = moment.astimezone(zone)
        offset = local.utcoffset()
        wall = _next_wall(normalized, local.replace(tzinfo=None, fold=0), inclusive)
        candidate = (wall - offset).replace(tzinfo=UTC)
        change = _first_change(zone, moment, candidate, offset)
        if change is None:
            return candidate.astimezone(zone)
        gap_slot, moment = _cross(normalized, fixed_hours, zone, change, offset)
        if gap_slot is not None:
            return gap_slot
        inclusive = True
    raise CronError(f"no next run found for {expr!r}")


def _cross(normalized: str, fixed_hours: bool, zone: tzinfo, change: datetime, offset: timedelta):
    """At `change` the zone's offset leaves `offset`. For fixed hours, a slot inside a
    spring-forward gap fires at the gap's end, and wall times repeated after a fall-back are
    skipped. Returns (that gap slot or None, the instant to search on from, inclusive)."""
    new_offset = _offset(zone, change)
    if not fixed_hours:
        return None, change
    if new_offset < offset:
        return None, change + (offset - new_offset)  # past the repeated wall-clock times
    gap_start = (change + offset).replace(tzinfo=None)
    gap_end = (change + new_offset).replace(tzinfo=None)
    if _next_wall(normalized, gap_start, True) < gap_end:
        return change.astimezone(zone), change
    return None, change


def next_n(expr: str, zone: tzinfo, after: datetime, n: int) -> list[datetime]:
    """The next `n` slots of `expr` after `after`."""
    slots: list[datetime] = []
    for _ in range(n):
        after = next_after(expr, zone, after)
        slots.append(after)
    return slots


def _next_wall(normalized: str, wall: datetime, inclusive: bool) -> datetime:
    """croniter on naive wall-clock time: the first match after (or at) `wall`."""
    start = wall - timedelta(microseconds=1) if inclusive else wall
    try:  # a shallow copy of a parsed prototype: croniter's parsing is the costly part
        return copy.copy(_prototype(normalized)).get_next(datetime, start_time=start)
    except CroniterBadDateError:
        raise CronError(f"cron expression {normalized!r} never matches") from None


@lru_cache(maxsize=256)
def _prototype(normalized: str) -> croniter:
    """A parsed croniter, only ever copied (so no state is shared between calls)."""
    return croniter(normalized, datetime(2000, 1, 1), day_or=True)


def _offset(zone: tzinfo, moment: datetime) -> timedelta:
    return moment.astimezone(zone).utcoffset()


def _first_change(zone: tzinfo, low: datetime, high: datetime, offset: timedelta):
    """The first instant in (low, high] whose UTC offset differs from `offset` (which is the
    offset at `low`), or None. Probes a day at a time, then bisects to the second."""
    probe = low
    while probe < high:
        step = min(probe + _DAY, high)
        if _offset(zone, step) != offset:
            return _bisect(zone, probe, step, offset)
        probe = step
    return None


def _bisect(zone: tzinfo, low: datetime, high: datetime, offset: timedelta) -> datetime:
    """The transition between `low` (offset `offset`) and `high` (another offset)."""
    while high - low > _SECOND_DELTA:
        middle = low + (high - low) / 2
        if _offset(zone, middle) == offset:
            low = middle
        else:
            high = middle
    whole = high.replace(microsecond=0)  # zones change offset on whole seconds
    return whole if whole > low and _offset(zone, whole) != offset else high


def _leave_repeat(zone: tzinfo, moment: datetime, inclusive: bool) -> tuple[datetime, bool]:
    """For fixed-hour expressions: if `moment` lies in the second pass of a repeated
    (fall-back) hour, move to the end of it, since those wall times already had their turn."""
    local = moment.astimezone(zone)
    first_offset = local.replace(fold=0).utcoffset()
    if local.fold == 0 or first_offset == local.utcoffset():
        return moment, inclusive
    length = first_offset - local.utcoffset()
    change = _bisect(zone, moment - length, moment, first_offset)
    return change + length, True
