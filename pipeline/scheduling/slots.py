"""Time arithmetic of a schedule's slots, in UTC (aware datetimes sharing a ZoneInfo compare
by wall time, which is wrong in a repeated fall-back hour): the next and latest slot, stored
times, the stable jitter, copy ids in epoch milliseconds."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from pipeline.domain.clock import parse_iso
from pipeline.scheduling.cron import next_after

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
# windows searched backwards for the latest missed slot before stepping forward through it
_LOOKBACKS = tuple(timedelta(seconds=s) for s in (60, 3600, 86400, 32 * 86400, 367 * 86400))


def latest_slot(expr: str, zone: tzinfo, first: datetime, clock: datetime) -> datetime:
    """The latest slot in [first, clock], `first` being a slot <= clock. Looks back in
    growing windows first, so a long downtime of a frequent cron is not stepped through."""
    slot = first
    for lookback in _LOOKBACKS:
        probe = clock - lookback
        if probe <= first:
            break
        candidate = next_slot(expr, zone, probe)
        if candidate <= clock:
            slot = candidate
            break
    while (following := next_slot(expr, zone, slot)) <= clock:
        slot = following
    return slot


def jitter_seconds(schedule_id: str, jitter: Any) -> int:
    """The schedule's stable firing delay: an offset in [0, jitter) whole seconds (not
    Python's salted hash()); `schedule next` shows it."""
    span = int(jitter or 0)
    if span < 1:
        return 0
    digest = hashlib.sha256(schedule_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % span


def next_slot(expr: str, zone: tzinfo, after: datetime) -> datetime:
    """next_after in UTC: aware datetimes sharing a ZoneInfo compare by wall time, which is
    wrong in a repeated (fall-back) hour, so all comparisons here are made in UTC."""
    return next_after(expr, zone, after).astimezone(UTC)


def is_slot(expr: str, zone: tzinfo, moment: datetime) -> bool:
    return next_slot(expr, zone, moment - _MICRO) == moment


def read_time(value: Any, zone: tzinfo) -> datetime | None:
    """A stored time in UTC; a value without offset is local time in `zone`."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_iso(value, zone).astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def format_time(moment: datetime, zone: tzinfo) -> str:
    return moment.astimezone(zone).isoformat(timespec="seconds")


def epoch_ms(moment: datetime) -> int:
    return (moment.astimezone(UTC) - _EPOCH) // timedelta(milliseconds=1)
