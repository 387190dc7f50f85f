"""Cron expressions and time zone names: parsing and validation.

Pure: no clock, no files (except that `zone_for(None)` asks the machine for its zone).
When a valid expression fires, across time zones and DST, is `pipeline.scheduling.cron`'s business.

Accepted syntax
    5 fields ``minute hour day-of-month month day-of-week``, or 6 with the seconds FIRST as in
    node-cron (``*/30 * * * * *`` = every 30 s). Numbers, names (``jan``..``dec``,
    ``sun``..``sat``; 0 and 7 are Sunday), ``*``, ranges ``a-b``, steps ``*/n``, ``a-b/n``,
    ``a/n`` and lists ``a,b``; croniter's ``L``, ``W``, ``#`` and ``?`` in the day fields. Aliases
    ``@hourly @daily @midnight @weekly @monthly @yearly @annually``. Croniter's hashed/random
    ``H``/``R`` fields and 7-field (year) expressions are refused: a schedule must mean the same
    thing on every machine and after every restart.
"""

from __future__ import annotations

import os
import re
from datetime import tzinfo
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

__all__ = ["CronError", "normalize", "zone_for"]


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
    day-of-week, so it is only asked when day-of-week is unrestricted (OR semantics, see
    `pipeline.scheduling.cron`)."""
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
