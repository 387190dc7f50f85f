"""The daily evaluation report (`claude-runner report`).

Built only from history, heartbeats and events, so any past day can be reported on.
The day is a local calendar day in `tz` (None: the machine's zone, which is also how
the daemon names its day files). `write_report` stores it as
`logs/reports/YYYY-MM-DD.md`, `.json` and `.svg`.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from pipeline.domain.clock import iso
from pipeline.domain.record import Record
from pipeline.domain.schedule import schedules_in
from pipeline.report.data import (
    Event,
    EventLog,
    Window,
    day_window,
    in_window,
    load_records,
)
from pipeline.report.events import (
    Span,
    backpressure_figures,
    full_spans,
    pause_figures,
    pause_spans,
    schedule_figures,
)
from pipeline.report.goals import day_goals
from pipeline.report.render import render_markdown, render_svg
from pipeline.report.tasks import (
    cost_figures,
    duration_figures,
    failure_reasons,
    hourly,
    task_figures,
)
from pipeline.report.uptime import first_start, load_heartbeats, max_gap_for, restarts, uptime
from pipeline.scheduling.health import report as health_report
from pipeline.scheduling.health import seen_from
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps, write_atomic
from pipeline.storage.layout import Layout
from pipeline.storage.schedule_facts import week_of_files

__all__ = ["SUMMARY_KEYS", "WrittenReport", "build_report", "render_markdown", "render_svg",
           "reports_folder", "save_report", "write_report"]

COMPARE_DAYS = 7

# The flat figures compared with the previous days (average and delta).
SUMMARY_KEYS = (
    "uptimePercent", "downtimeSeconds", "restarts", "crashes", "tasks", "completed",
    "failed", "retried", "timedOut", "successRate", "medianMs", "p95Ms", "costUsd",
    "pauses", "pauseSeconds", "fullEpisodes", "queuePeak", "scheduleFired",
    "scheduleSkipped",
)


@dataclass
class _Inputs:
    """Everything read from disk once, shared by the day and the days it is compared to."""

    now: datetime
    tz: tzinfo | None
    max_gap: float
    records: dict[date, list[Record]]
    events: EventLog
    heartbeats: list[datetime]
    pauses: list[Span]
    full: list[Span]
    born: datetime | None  # the runner's first start on this root


def _load(layout: Layout, day: date, now: datetime, poll_interval: float,
          tz: tzinfo | None) -> _Inputs:
    first = day - timedelta(days=COMPARE_DAYS)
    start = day_window(first, now, tz).start
    end = day_window(day, now, tz).end
    events = EventLog.load(layout)
    return _Inputs(
        now=now, tz=tz, max_gap=max_gap_for(poll_interval),
        records=load_records(layout, first, day, tz),
        events=events,
        heartbeats=load_heartbeats(layout, start, max(start, end), pad=timedelta(days=1), tz=tz),
        pauses=pause_spans(events.until(now), now),
        full=full_spans(events.until(now), now),
        born=first_start(layout),
    )


def _restart_figures(day_events: list[Event], window: Window) -> dict[str, Any]:
    causes = restarts([event.data for event in day_events], window.start, window.end)
    return {"total": sum(causes.values()), "byCause": dict(sorted(causes.items()))}


def _around(beats: list[datetime], window: Window) -> list[datetime]:
    """The sorted heartbeats inside the window plus one neighbour on each side."""
    low = max(0, bisect.bisect_left(beats, window.start) - 1)
    return beats[low:bisect.bisect_left(beats, window.end) + 1]


def _beats_inside(beats: list[datetime], window: Window) -> bool:
    return any(window.start <= beat < window.end for beat in beats)


def _since(born: datetime | None, window: Window) -> datetime:
    """Uptime is measured from the runner's first start (a day before it has none)."""
    return window.end if born is None else min(max(window.start, born), window.end)


def _sections(inputs: _Inputs, day: date) -> dict[str, Any]:
    """Every figure of one day (all but the comparison)."""
    tz = inputs.tz
    window = day_window(day, inputs.now, tz)
    records = in_window(inputs.records.get(day, []), window)
    day_events = inputs.events.between(window.start, window.end)
    retry_ids = {str(e.data.get("id")) for e in day_events if e.name == "task_retry"}
    beats = _around(inputs.heartbeats, window)
    return {
        "day": day.isoformat(),
        "window": {"start": iso(window.start.astimezone(tz)), "end": iso(window.end.astimezone(tz)),
                   "seconds": window.seconds},
        "hasData": bool(records or day_events or _beats_inside(beats, window)),
        "uptime": uptime(beats, _since(inputs.born, window), window.end,
                         inputs.max_gap).to_dict(tz),
        "restarts": _restart_figures(day_events, window),
        "tasks": task_figures(records, retry_ids),
        "durations": duration_figures(records),
        "cost": cost_figures(records),
        "pauses": pause_figures(inputs.pauses, window, tz),
        "backpressure": backpressure_figures(day_events, inputs.full, window),
        "schedules": schedule_figures(day_events),
        "failures": failure_reasons(records),
        "hourly": hourly(records, tz),
    }


def summary(sections: dict[str, Any]) -> dict[str, Any]:
    """The flat figures of one day, in SUMMARY_KEYS order."""
    tasks, durations = sections["tasks"], sections["durations"]
    backpressure, schedules = sections["backpressure"], sections["schedules"]
    return {
        "uptimePercent": sections["uptime"]["percent"],
        "downtimeSeconds": sections["uptime"]["downSeconds"],
        "restarts": sections["restarts"]["total"],
        "crashes": sections["restarts"]["byCause"].get("crash", 0),
        "tasks": tasks["total"],
        "completed": tasks["completed"],
        "failed": tasks["failed"],
        "retried": tasks["retried"],
        "timedOut": tasks["timedOut"],
        "successRate": tasks["successRate"],
        "medianMs": durations["medianMs"],
        "p95Ms": durations["p95Ms"],
        "costUsd": sections["cost"]["totalUsd"],
        "pauses": sections["pauses"]["count"],
        "pauseSeconds": sections["pauses"]["seconds"],
        "fullEpisodes": backpressure["fullEpisodes"],
        "queuePeak": backpressure["queuePeak"],
        "scheduleFired": schedules["fired"],
        "scheduleSkipped": schedules["skipped"],
    }


def _mean(values: list[Any]) -> float | None:
    present = [value for value in values if value is not None]
    return round(sum(present) / len(present), 6) if present else None


def comparison(today: dict[str, Any], previous: list[dict[str, Any]]) -> dict[str, Any]:
    """Today against the average of the previous days that have any data at all
    (a day before the runner existed would otherwise count as 0 % uptime).
    A figure that is None on a day (e.g. success rate without tasks) is left out of
    that figure's average; `delta` is today minus the average."""
    used = [day for day in previous if day["hasData"]]
    average = {key: _mean([day["summary"][key] for day in used]) for key in SUMMARY_KEYS}
    delta = {key: None if today[key] is None or average[key] is None
             else round(today[key] - average[key], 6) for key in SUMMARY_KEYS}
    return {
        "from": previous[0]["day"] if previous else None,
        "to": previous[-1]["day"] if previous else None,
        "days": len(used),
        "average": average,
        "delta": delta,
        "daily": [{"day": day["day"], "hasData": day["hasData"], **day["summary"]}
                  for day in previous],
    }


def build_report(layout: Layout, day: date, now: datetime, poll_interval: float, *,
                 tz: tzinfo | None = None, high_watermark: int = 10) -> dict[str, Any]:
    """The report of one local day, as a JSON-ready dict (see SUMMARY_KEYS and README)."""
    inputs = _load(layout, day, now, poll_interval, tz)
    previous = []
    for offset in range(COMPARE_DAYS, 0, -1):
        other = _sections(inputs, day - timedelta(days=offset))
        previous.append({"day": other["day"], "hasData": other["hasData"],
                         "summary": summary(other)})
    sections = _sections(inputs, day)
    sections["scheduleHealth"] = schedule_health(layout, min(
        now, day_window(day, now, inputs.tz).end))
    today = summary(sections)
    uptimes = [p["summary"]["uptimePercent"] if p["hasData"] else None for p in previous[1:]]
    goals = day_goals(layout, day, inputs.records, sections, uptimes, high_watermark)
    return {
        "day": sections.pop("day"),
        "generatedAt": iso(now.astimezone(tz)),
        "pollInterval": poll_interval,
        "maxGapSeconds": inputs.max_gap,
        **sections,
        "summary": today,
        "comparison": comparison(today, previous),
        "goals": goals,
    }


def schedule_health(layout: Layout, moment: datetime) -> list[dict[str, Any]]:
    """Each schedule's health (scheduling/health.py) as of `moment`."""
    try:
        schedules = schedules_in(JsonFile(layout.scheduled, "tasks").items())
    except CorruptFile:
        return []
    events, records = week_of_files(layout, moment)
    return [health_report(s, seen_from(str(s.written("id")), events, records), moment)
            for s in schedules]


def reports_folder(layout: Layout) -> Path:
    return layout.logs / "reports"


@dataclass(frozen=True)
class WrittenReport:
    report: dict[str, Any]
    markdown: Path
    json: Path
    svg: Path


def write_report(layout: Layout, day: date, now: datetime, poll_interval: float, *,
                 tz: tzinfo | None = None, high_watermark: int = 10) -> WrittenReport:
    """Build the report and write its .svg, .json and .md."""
    report = build_report(layout, day, now, poll_interval, tz=tz,
                          high_watermark=high_watermark)
    return save_report(layout, day.isoformat(), report, render_markdown(report),
                       render_svg(report))


def save_report(layout: Layout, stem: str, report: dict[str, Any], markdown: str,
                svg: str) -> WrittenReport:
    """Write logs/reports/<stem>.svg, .json and .md, each atomically (the Markdown last,
    so the chart it embeds is already there)."""
    folder = reports_folder(layout)
    folder.mkdir(parents=True, exist_ok=True)
    written = WrittenReport(report, folder / f"{stem}.md", folder / f"{stem}.json",
                            folder / f"{stem}.svg")
    write_atomic(written.svg, svg.encode("utf-8"))
    write_atomic(written.json, dumps(report))
    write_atomic(written.markdown, markdown.encode("utf-8"))
    return written
