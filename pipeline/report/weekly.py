"""The weekly report (`claude-runner report --week [YYYY-Www]`): the four goals for each
day of an ISO week, and their trend over the last 4 weeks.

Built from the daily reports' goals (`pipeline.report.goals`), so a day means the same
here as in its daily report: local calendar days in `tz`, daylight-saving days 23 or 25
hours long, weeks from Monday to Sunday as ISO 8601 numbers them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import Any

from pipeline.domain.clock import iso
from pipeline.report.build import WrittenReport, build_report, save_report
from pipeline.report.goals import OPTIMISATIONS_TARGET, UPTIME_TARGET, iso_week, week_start
from pipeline.report.weekly_render import render_week_markdown, render_week_svg
from pipeline.storage.layout import Layout

TREND_WEEKS = 4
_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


def parse_week(text: str) -> date:
    """'2026-W13' -> that week's Monday; ValueError for anything else."""
    found = _WEEK.match(text.strip())
    if not found:
        raise ValueError(f"{text!r}: expected YYYY-Www, e.g. 2026-W13")
    return date.fromisocalendar(int(found[1]), int(found[2]), 1)


@dataclass(frozen=True)
class WeekInputs:
    layout: Layout
    now: datetime
    poll_interval: float
    tz: tzinfo | None
    high_watermark: int

    def today(self) -> date:
        return self.now.astimezone(self.tz).date()

    def goals(self, day: date) -> dict[str, Any]:
        return build_report(self.layout, day, self.now, self.poll_interval, tz=self.tz,
                            high_watermark=self.high_watermark)["goals"]


def day_row(day: date, goals: dict[str, Any]) -> dict[str, Any]:
    """One day's four goals, flat."""
    return {"day": day.isoformat(), "goals": {key: {k: goal[k] for k in ("target", "value",
                                                                            "met")}
                                              for key, goal in goals.items()}}


def week_rows(inputs: WeekInputs, monday: date) -> tuple[list[dict[str, Any]], dict | None]:
    """The rows of the days of the week that have begun, and the last day's goals."""
    rows, last = [], None
    for offset in range(7):
        day = monday + timedelta(days=offset)
        if day > inputs.today():
            break
        last = inputs.goals(day)
        rows.append(day_row(day, last))
    return rows, last


def week_summary(monday: date, rows: list[dict[str, Any]], last: dict | None) -> dict[str, Any]:
    """The week against the goals: mean uptime of the days with data, days with an
    evaluation, optimisations (the last day's count is the week's), days the queue held."""
    uptimes = [r["goals"]["uptime"]["value"] for r in rows
               if r["goals"]["uptime"]["value"] is not None]
    found = last["optimisations"] if last else {"value": 0, "list": []}
    mean = round(sum(uptimes) / len(uptimes), 4) if uptimes else None
    return {
        "week": iso_week(monday),
        "days": len(rows),
        "uptime": mean,
        "uptimeMet": None if mean is None else mean > UPTIME_TARGET,
        "evaluations": sum(1 for r in rows if r["goals"]["evaluation"]["met"]),
        "optimisations": found["value"],
        "optimisationsMet": found["value"] >= OPTIMISATIONS_TARGET,
        "optimisationList": found["list"],
        "queueHeldDays": sum(1 for r in rows if r["goals"]["queuePeak"]["met"]),
    }


def build_week(inputs: WeekInputs, monday: date) -> dict[str, Any]:
    rows, last = week_rows(inputs, monday)
    trend = []
    for back in range(TREND_WEEKS - 1, 0, -1):
        earlier = monday - timedelta(weeks=back)
        trend.append(week_summary(earlier, *week_rows(inputs, earlier)))
    this_week = week_summary(monday, rows, last)
    return {
        "week": iso_week(monday),
        "from": monday.isoformat(),
        "to": (monday + timedelta(days=6)).isoformat(),
        "generatedAt": iso(inputs.now.astimezone(inputs.tz)),
        "days": rows,
        "summary": this_week,
        "trend": [*trend, this_week],
    }


def write_week(inputs: WeekInputs, monday: date) -> WrittenReport:
    report = build_week(inputs, monday)
    return save_report(inputs.layout, report["week"], report, render_week_markdown(report),
                       render_week_svg(report))


def this_week(now: datetime, tz: tzinfo | None) -> date:
    return week_start(now.astimezone(tz).date())
