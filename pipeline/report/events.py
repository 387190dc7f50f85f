"""Event figures of the daily report: usage-limit pauses, backpressure, schedules.

Pauses and full-queue spans can start before the day they are reported on, so they
are rebuilt from the whole event log first and then clipped to each day.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.report.data import Event, Window


@dataclass
class Span:
    """A pause (or a stretch of full queue); `open` when no end event was seen."""

    start: datetime
    end: datetime
    reason: str = ""
    until: datetime | None = None
    open: bool = False

    def overlap(self, window: Window) -> float:
        low, high = max(self.start, window.start), min(self.end, window.end)
        return max(0.0, (high - low).total_seconds())

    def touches(self, window: Window) -> bool:
        return self.start < window.end and self.end > window.start and window.seconds > 0


def _close_open(current: Span, now: datetime) -> Span:
    """A pause whose pause_end never came ends at its `until` (or now, if sooner)."""
    current.end = min(current.until, now) if current.until is not None else now
    current.end = max(current.end, current.start)
    current.open = True
    return current


def pause_spans(events: list[Event], now: datetime) -> list[Span]:
    """Pauses from pause_start / pause_end.

    A pause_start while a pause is open extends it (a new `until`), unless the open
    one has already run out: then that one ends at its `until` and a new one begins.
    """
    spans: list[Span] = []
    current: Span | None = None
    for event in events:
        if event.name == "pause_start":
            until = parse_iso_or_none(event.data.get("until"))
            if current is not None and current.until is not None and current.until <= event.at:
                spans.append(_close_open(current, event.at))
                current = None
            if current is None:
                reason = str(event.data.get("reason") or "")
                current = Span(event.at, event.at, reason, until)
            else:
                current.until = until
        elif event.name == "pause_end" and current is not None:
            # pause_end is written when the runner next looks, which may be long
            # after `until` if it was down; the pause itself was over at `until`.
            current.end = min(event.at, current.until) if current.until else event.at
            current.end = max(current.end, current.start)
            spans.append(current)
            current = None
    if current is not None:
        spans.append(_close_open(current, now))
    return spans


def pause_figures(spans: list[Span], window: Window, tz: tzinfo | None) -> dict[str, Any]:
    """Pauses that overlap the day; `seconds` counts only the part inside it."""
    listed = []
    for span in spans:
        if not span.touches(window):
            continue
        listed.append({
            "start": iso(span.start.astimezone(tz)),
            "end": iso(span.end.astimezone(tz)),
            "until": iso(span.until.astimezone(tz)) if span.until else None,
            "reason": span.reason,
            "open": span.open,
            "seconds": round(span.overlap(window), 3),
        })
    return {"count": len(listed), "seconds": round(sum(p["seconds"] for p in listed), 3),
            "list": listed}


def full_spans(events: list[Event], now: datetime) -> list[Span]:
    """Stretches during which the backpressure level was "full"."""
    spans: list[Span] = []
    current: Span | None = None
    for event in events:
        if event.name != "level":
            continue
        if event.data.get("to") == "full":
            current = current or Span(event.at, event.at)
        elif current is not None:
            current.end = event.at
            spans.append(current)
            current = None
    if current is not None:
        current.end = max(now, current.start)
        current.open = True
        spans.append(current)
    return spans


def _length(event: Event) -> int | None:
    value = event.data.get("length")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def backpressure_figures(day_events: list[Event], spans: list[Span],
                         window: Window) -> dict[str, Any]:
    """Times the level went to full, seconds spent full, and the queue peak (the
    largest `length` carried by a level event; None when the level never changed)."""
    levels = [event for event in day_events if event.name == "level"]
    lengths = [length for event in levels if (length := _length(event)) is not None]
    return {
        "fullEpisodes": sum(1 for event in levels if event.data.get("to") == "full"),
        "fullSeconds": round(sum(span.overlap(window) for span in spans), 3),
        "queuePeak": max(lengths) if lengths else None,
        "levelChanges": len(levels),
    }


def schedule_figures(day_events: list[Event]) -> dict[str, Any]:
    """Firings and skips per scheduleId, with skip reasons counted."""
    by_id: dict[str, dict[str, Any]] = {}
    fired = skipped = 0
    for event in day_events:
        if event.name not in ("schedule_fired", "schedule_skipped"):
            continue
        schedule = str(event.data.get("scheduleId") or "(unknown)")
        entry = by_id.setdefault(schedule, {"fired": 0, "skipped": 0, "skipReasons": Counter()})
        if event.name == "schedule_fired":
            entry["fired"] += 1
            fired += 1
        else:
            entry["skipped"] += 1
            entry["skipReasons"][str(event.data.get("reason") or "unknown")] += 1
            skipped += 1
    for entry in by_id.values():
        entry["skipReasons"] = dict(sorted(entry["skipReasons"].items()))
    return {"fired": fired, "skipped": skipped, "byId": dict(sorted(by_id.items()))}
