"""Cron expressions on croniter, with time zones and daylight saving time made explicit.

Pure: no clock, no files (except that `zone_for(None)` asks the machine for its zone).
Time always comes in as an aware datetime; results are aware datetimes in the schedule's zone.

Accepted syntax
    5 fields ``minute hour day-of-month month day-of-week``, or 6 with the seconds FIRST as in
    node-cron (``*/30 * * * * *`` = every 30 s). Numbers, names (``jan``..``dec``,
    ``sun``..``sat``; 0 and 7 are Sunday), ``*``, ranges ``a-b``, steps ``*/n``, ``a-b/n``,
    ``a/n`` and lists ``a,b``; croniter's ``L``, ``W``, ``#`` and ``?`` in the day fields. Aliases
    ``@hourly @daily @midnight @weekly @monthly @yearly @annually``. Croniter's hashed/random
    ``H``/``R`` fields and 7-field (year) expressions are refused: a schedule must mean the same
    thing on every machine and after every restart.

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
import os
import re
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterBadDateError, CroniterError, croniter

__all__ = ["CronError", "next_after", "next_n", "normalize", "zone_for"]


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; str() is a reason for humans."""


_ALIASES = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# (name, lowest, highest, names) of each field; seconds come first in 6-field input
_SECOND = ("second", 0, 59, ())
_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day-of-month", 1, 31, ()),
    ("month", 1, 12, _MONTHS),
    ("day-of-week", 0, 7, _DAYS),
)
_ITEM = re.compile(r"^(?P<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>.*))?$")
_NUMBER = re.compile(r"^[0-9]+$")
# croniter extensions we pass through to croniter's own checks
_DOM_EXTENSION = re.compile(r"^(l|[0-9]{1,2}w|w[0-9]{1,2})$")
_DOW_EXTENSION = re.compile(r"^(l[0-7]|[a-z0-9]+#[0-9]+)$")
_HOUR = 1  # index of the hour field in croniter's expansion
_MAX_STEPS = 1000  # DST transitions and skipped repeats crossed before we give up
_DAY = timedelta(days=1)
_SECOND_DELTA = timedelta(seconds=1)


def normalize(expr: str) -> str:
    """Validate `expr` and return it in croniter's form: lower case, single spaces, aliases
    expanded, and for 6 fields the seconds moved from first (node-cron) to last (croniter)."""
    if not isinstance(expr, str) or not expr.strip():
        raise CronError("cron expression is empty")
    return _normalize(expr.strip())


@lru_cache(maxsize=256)  # the daemon checks every schedule on every tick
def _normalize(expr: str) -> str:
    text = expr.lower()
    if text.startswith("@"):
        text = _expand_alias(text)
    fields = text.split()
    if len(fields) not in (5, 6):
        raise CronError(
            f"cron expression {expr!r} has {len(fields)} fields; expected 5 "
            "(minute hour day-of-month month day-of-week) or 6 with seconds first"
        )
    specs = (_SECOND, *_FIELDS) if len(fields) == 6 else _FIELDS
    for spec, field in zip(specs, fields, strict=True):
        _check_field(spec, field)
    if len(fields) == 6:
        fields = fields[1:] + fields[:1]
    result = " ".join(fields)
    _croniter_check(expr, result)
    return result


def _expand_alias(text: str) -> str:
    if text in _ALIASES:
        return _ALIASES[text]
    names = ", ".join(sorted(_ALIASES))
    raise CronError(f"unknown cron alias {text!r}; use one of {names}")


def _check_field(spec: tuple, field: str) -> None:
    name = spec[0]
    for item in field.split(","):
        if not item:
            raise CronError(f"{name} field {field!r} has an empty list entry")
        _check_item(spec, item)


def _check_item(spec: tuple, item: str) -> None:
    name = spec[0]
    if name in ("day-of-month", "day-of-week") and item == "?":
        return
    if name == "day-of-month" and _DOM_EXTENSION.match(item):
        return
    if name == "day-of-week" and _DOW_EXTENSION.match(item):
        return
    match = _ITEM.match(item)
    if not match:
        raise CronError(f"{name} field: {item!r} is not a number, name, range or step")
    step = match["step"]
    if step is not None and not _NUMBER.match(step):
        raise CronError(f"{name} field: step {step!r} in {item!r} is not a whole number")
    if step is not None and int(step) == 0:
        raise CronError(f"{name} field: step 0 in {item!r} never advances; use 1 or more")
    if match["base"] != "*":
        for part in match["base"].split("-"):
            _check_value(spec, part, item)


def _check_value(spec: tuple, part: str, item: str) -> None:
    name, low, high, names = spec
    if _NUMBER.match(part):
        if not low <= int(part) <= high:
            raise CronError(f"{name} field: {int(part)} is out of range {low}-{high}")
        return
    if part in names:
        return
    hint = f" or a name ({', '.join(names)})" if names else ""
    where = f" in {item!r}" if part != item else ""
    raise CronError(f"{name} field: {part!r}{where} is not a number {low}-{high}{hint}")


def _croniter_check(original: str, normalized: str) -> None:
    """Let croniter judge what our field check passed through (L, W, #, impossible dates).
    `strict` rejects days that never occur in the given months (``0 0 31 2 *``); it ignores
    day-of-week, so it is only asked when day-of-week is unrestricted (OR semantics)."""
    day_of_week = normalized.split()[4]
    try:
        croniter.expand(normalized, strict=day_of_week in ("*", "?"))
    except CroniterError as exc:
        raise CronError(f"cron expression {original!r} is not valid: {exc}") from None


def zone_for(name: str | None) -> tzinfo:
    """The time zone of an IANA name; None or "" means the machine's local zone."""
    if name is None or (isinstance(name, str) and not name.strip()):
        return _local_zone()
    if not isinstance(name, str):
        raise CronError(f"timezone must be an IANA name like 'Europe/Berlin', not {name!r}")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError, OSError):
        reason = f"unknown timezone {name!r}; use an IANA name like 'Europe/Berlin'"
        raise CronError(reason) from None


def _local_zone() -> tzinfo:
    """The machine's zone as a real zone with DST rules (not today's fixed offset):
    $TZ if it names a zone, else /etc/localtime, else the C library's view (Windows)."""
    key = os.environ.get("TZ", "").lstrip(":")
    if key:
        try:
            return ZoneInfo(key)
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    localtime = Path("/etc/localtime")
    target = os.path.realpath(localtime)
    if "zoneinfo/" in target:  # a link to a named zone: keep its name
        try:
            return ZoneInfo(target.split("zoneinfo/", 1)[1])
        except (ZoneInfoNotFoundError, ValueError, OSError):
            pass
    try:
        with localtime.open("rb") as handle:
            return ZoneInfo.from_file(handle, key="localtime")
    except (ValueError, OSError):
        pass
    from dateutil.tz import tzlocal  # croniter depends on python-dateutil

    return tzlocal()


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
