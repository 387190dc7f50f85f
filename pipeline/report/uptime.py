"""Uptime from heartbeat files, and restarts from the event log.

The daemon appends one ISO time per line to `logs/heartbeats/YYYY-MM-DD.txt` (local
date) at least every `poll_interval` seconds while it is alive. A gap between two
consecutive heartbeats longer than `max_gap` is downtime, the whole gap. Everything
here except `load_heartbeats` is pure, so it can be tested with made-up times.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from itertools import pairwise
from pathlib import Path
from typing import Any

from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.storage.jsonfile import read_bytes
from pipeline.storage.layout import Layout


def max_gap_for(poll_interval: float) -> float:
    """The longest silence that still counts as alive (the same rule as `status`)."""
    return max(3 * poll_interval, 30.0)


@dataclass(frozen=True)
class Gap:
    """One stretch of downtime, already clipped to the window it was measured in."""

    start: datetime
    end: datetime

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        return {"start": iso(self.start.astimezone(tz)), "end": iso(self.end.astimezone(tz)),
                "seconds": round(self.seconds, 3)}


@dataclass(frozen=True)
class Uptime:
    up: float
    down: float
    gaps: list[Gap] = field(default_factory=list)

    @property
    def percent(self) -> float | None:
        """Share of the window that was up, 0..100; None for an empty window."""
        total = self.up + self.down
        return 100.0 * self.up / total if total > 0 else None

    def to_dict(self, tz: tzinfo | None = None) -> dict[str, Any]:
        percent = self.percent
        return {
            "upSeconds": round(self.up, 3),
            "downSeconds": round(self.down, 3),
            "percent": None if percent is None else round(percent, 4),
            "gaps": [gap.to_dict(tz) for gap in self.gaps],
        }


def uptime(heartbeats: list[datetime], start: datetime, end: datetime,
           max_gap: float) -> Uptime:
    """Up and down seconds within [start, end).

    `heartbeats` may hold times outside the window: the last one at or before `start`
    and the first one at or after `end` are used as the neighbours of the window's
    first and last heartbeat, so an outage that spans midnight is measured whole.
    Without such a neighbour the window's edge stands in for it.
    """
    if end <= start:
        return Uptime(0.0, 0.0, [])
    # In UTC: times sharing one ZoneInfo would be subtracted as wall-clock times.
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    beats = sorted(heartbeats)
    first_inside = bisect.bisect_right(beats, start)
    after = bisect.bisect_left(beats, end)
    before = beats[first_inside - 1] if first_inside > 0 else start
    following = beats[after] if after < len(beats) else end
    points = [before, *beats[first_inside:after], following]
    gaps = []
    for left, right in pairwise(points):
        if (right - left).total_seconds() > max_gap:
            clipped = Gap(max(left, start), min(right, end))
            if clipped.seconds > 0:
                gaps.append(clipped)
    down = sum(gap.seconds for gap in gaps)
    return Uptime((end - start).total_seconds() - down, down, gaps)


def _days(first: date, last: date) -> Iterable[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)


def _parse_beat(line: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(line)  # the fast path: what the daemon writes
    except ValueError:
        return parse_iso_or_none(line)
    return moment if moment.tzinfo is not None else parse_iso_or_none(line)


def _read_beats(path: Path) -> list[datetime]:
    raw = read_bytes(path)
    if raw is None:
        return []
    beats = []
    for line in raw.decode("utf-8", errors="replace").splitlines():
        # Only the first word: lets the daemon append fields later without breaking this.
        words = line.split(maxsplit=1)
        moment = _parse_beat(words[0]) if words else None
        if moment is not None:
            beats.append(moment)
    return beats


def load_heartbeats(layout: Layout, start: datetime, end: datetime, *,
                    pad: timedelta = timedelta(0),
                    tz: tzinfo | None = None) -> list[datetime]:
    """Sorted heartbeats in [start, end) from the day files that overlap it.

    With `pad`, also the last heartbeat in [start - pad, start) and the first in
    [end, end + pad], the neighbours `uptime` needs to measure gaps across the
    window's edges. Day files are named by local date in `tz` (None: the machine's);
    one extra file on each side is read in case the writer's zone differed.
    """
    low, high = start - pad, end + pad
    first = low.astimezone(tz).date() - timedelta(days=1)
    last = high.astimezone(tz).date() + timedelta(days=1)
    beats: list[datetime] = []
    for day in _days(first, last):
        beats.extend(_read_beats(layout.heartbeats / f"{day.isoformat()}.txt"))
    beats.sort()
    first_inside = bisect.bisect_left(beats, start)
    after = bisect.bisect_left(beats, end)
    picked = beats[first_inside:after]
    if pad and first_inside > 0 and beats[first_inside - 1] >= low:
        picked.insert(0, beats[first_inside - 1])
    if pad and after < len(beats) and beats[after] <= high:
        picked.append(beats[after])
    return picked


def restarts(events: Iterable[Mapping[str, Any]], start: datetime,
             end: datetime) -> dict[str, int]:
    """`daemon_start` events in [start, end) counted by their `previous` cause.

    "clean" and "crash" are always present; a missing cause counts as "unknown".
    """
    counts = {"clean": 0, "crash": 0}
    for event in events:
        if event.get("event") != "daemon_start":
            continue
        moment = parse_iso_or_none(event.get("at"))
        if moment is None or not start <= moment < end:
            continue
        cause = event.get("previous")
        key = cause if isinstance(cause, str) and cause else "unknown"
        counts[key] = counts.get(key, 0) + 1
    return counts


def first_start(layout: Layout) -> datetime | None:
    """The runner's first start on this root: its earliest heartbeat (the daemon writes
    one as soon as it has started). Uptime is counted from here, not from midnight."""
    try:
        days = sorted(p for p in layout.heartbeats.glob("*.txt") if p.stem[:1].isdigit())
    except OSError:
        return None
    for path in days:
        beats = _read_beats(path)
        if beats:
            return min(beats)
    return None


def report_day_problem(day: date, now: datetime, born: datetime | None) -> str | None:
    """Why there is no report for `day`: it is in the future, or before the runner's
    first start on this root."""
    today = now.astimezone().date()
    if day > today:
        return f"--date {day}: that day has not come yet (today is {today})"
    if born is not None and day < born.astimezone().date():
        return (f"--date {day}: no report for a day before the runner first started on this "
                f"root ({born.astimezone().date()})")
    return None
