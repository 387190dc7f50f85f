"""Times and durations typed by people: `pause --until 14:30`, `--until 2h`, `-t 10m`."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from pipeline.domain.clock import parse_iso

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}
INDEFINITE_YEARS = 100  # a pause without an end is stored this far ahead, shown "until resumed"


def parse_duration(text: str) -> float | None:
    """Seconds of `90s`, `10m`, `1.5h`, `2d`, `500ms`; None when it is not one."""
    match = _DURATION.match(text)
    return float(match[1]) * _UNIT_SECONDS[match[2]] if match else None


def parse_until(text: str, now: datetime) -> datetime:
    """A moment after `now`: a duration from now (`2h`), a local clock time (`14:30`, the
    next one), or an ISO time (local when it has no offset). Raises ValueError."""
    seconds = parse_duration(text)
    if seconds is not None:
        return now + timedelta(seconds=seconds)
    if re.match(r"^\d{1,2}:\d{2}$", text.strip()):
        local = now.astimezone()
        clock = time.fromisoformat(text.strip().zfill(5))
        moment = local.replace(hour=clock.hour, minute=clock.minute, second=0, microsecond=0)
        return moment if moment > local else moment + timedelta(days=1)
    try:
        moment = parse_iso(text)
    except ValueError:
        raise ValueError(f"{text!r}: expected a duration (30m, 2h), a clock time (14:30) "
                         "or an ISO time (2026-11-28T14:30)") from None
    if moment <= now:
        raise ValueError(f"{text!r} is in the past")
    return moment


def indefinitely(now: datetime) -> datetime:
    return now + timedelta(days=365 * INDEFINITE_YEARS)


def is_indefinite(until: datetime, now: datetime) -> bool:
    return until - now > timedelta(days=365 * INDEFINITE_YEARS / 2)
