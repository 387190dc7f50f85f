"""The one source of time. Everything that needs `now` takes it as a parameter;
only the daemon and the CLI call `now()` here, so tests can use a fixed clock."""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo


def now() -> datetime:
    """Current time, aware, in UTC."""
    return datetime.now(UTC)


def iso(moment: datetime) -> str:
    """ISO 8601 with a UTC offset and millisecond precision."""
    return moment.isoformat(timespec="milliseconds")


_NAIVE_SPACE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}(:\d{2})?")


def parse_iso(text: str, naive_zone: ZoneInfo | None = None) -> datetime:
    """Parse an ISO time; a value without an offset (as the Node runner wrote them)
    is read as local time in `naive_zone` (the machine's zone when None)."""
    value = text.strip()
    if value.endswith("Z"):
        value = value[:-1] + "+00:00"
    if _NAIVE_SPACE.match(value):
        value = value.replace(" ", "T", 1)
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=naive_zone) if naive_zone else moment.astimezone()
    return moment


def parse_iso_or_none(text: object) -> datetime | None:
    if not isinstance(text, str) or not text:
        return None
    return _parse_cached(text)


@functools.lru_cache(maxsize=4096)
def _parse_cached(text: str) -> datetime | None:
    """The loop reads every queued task's notBefore on each tick: parse each text once."""
    try:
        return parse_iso(text)
    except ValueError:
        return None

