"""Inputs of the daily report: a day's window, its history records, the event log.

Only files the daemon appends to (history, events, heartbeats) are read, never the
live state files, so a report can be rebuilt for any past day.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, NamedTuple

from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.record import Record
from pipeline.storage.jsonfile import HistoryLog, read_lines
from pipeline.storage.layout import Layout


class Window(NamedTuple):
    """One local calendar day; `end` is cut at `now` for today (and equals `start`
    for a day that has not begun)."""

    day: date
    start: datetime
    end: datetime
    day_end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def local_midnight(day: date, tz: tzinfo | None) -> datetime:
    """The start of `day` in `tz`; None means the machine's zone (DST-aware)."""
    naive = datetime.combine(day, time())
    return naive.replace(tzinfo=tz) if tz is not None else naive.astimezone()


def day_window(day: date, now: datetime, tz: tzinfo | None) -> Window:
    """The bounds are in UTC: Python subtracts two times of one ZoneInfo as wall
    clock times, which would make a daylight-saving day 24 hours long."""
    start = local_midnight(day, tz).astimezone(UTC)
    day_end = local_midnight(day + timedelta(days=1), tz).astimezone(UTC)
    return Window(day, start, max(start, min(day_end, now)), day_end)


def local_date(moment: datetime, tz: tzinfo | None) -> date:
    return moment.astimezone(tz).date()


def record_end(record: Record) -> datetime | None:
    """When a record became terminal (startedAt as a last resort)."""
    return record.ended() or parse_iso_or_none(record.started_at)


def load_records(layout: Layout, first: date, last: date,
                 tz: tzinfo | None) -> dict[date, list[Record]]:
    """History records by the local date (in `tz`) of their end, for first..last.

    The daemon files a record under its own local date; one file beyond each end is
    read as well, so a report made in another zone still finds every record. A
    record without any usable time stays on the day of its file.
    """
    history = HistoryLog(layout.history)
    by_day: dict[date, list[Record]] = {}
    for offset in range((last - first).days + 3):
        file_day = first + timedelta(days=offset - 1)
        for record in history.records(file_day.isoformat()):
            end = record_end(record)
            day = local_date(end, tz) if end is not None else file_day
            if first <= day <= last:
                by_day.setdefault(day, []).append(record)
    return by_day


def in_window(records: list[Record], window: Window) -> list[Record]:
    """The records that ended inside the window (today: before `now`)."""
    kept = []
    for record in records:
        end = record_end(record)
        if end is None or window.start <= end < window.end:
            kept.append(record)
    return kept


class Event(NamedTuple):
    at: datetime
    name: str
    data: dict[str, Any]


class EventLog:
    """`logs/events.jsonl`, parsed once and sorted by time, for slicing by window."""

    def __init__(self, events: list[Event]) -> None:
        self.events = sorted(events, key=lambda event: event.at)
        self._times = [event.at for event in self.events]

    @classmethod
    def load(cls, layout: Layout) -> EventLog:
        events = []
        for raw in read_lines(layout.events):
            at = parse_iso_or_none(raw.get("at"))
            name = raw.get("event")
            if at is not None and isinstance(name, str):
                events.append(Event(at, name, raw))
        return cls(events)

    def between(self, start: datetime, end: datetime) -> list[Event]:
        """Events with start <= at < end."""
        low = bisect.bisect_left(self._times, start)
        high = bisect.bisect_left(self._times, end)
        return self.events[low:high]

    def until(self, end: datetime) -> list[Event]:
        return self.events[:bisect.bisect_left(self._times, end)]
