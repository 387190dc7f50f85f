"""The weekly report as Markdown, and its 4-week trend chart as a hand-written SVG."""

from __future__ import annotations

from datetime import date
from typing import Any
from xml.sax.saxutils import escape

from pipeline.report.format import DASH, number, percent
from pipeline.report.goals import OPTIMISATIONS_TARGET, UPTIME_TARGET

_SIGN = {True: "✓", False: "✗", None: "–"}


def _day_line(row: dict[str, Any]) -> str:
    goals = row["goals"]
    name = date.fromisoformat(row["day"]).strftime("%a")
    up, ev = goals["uptime"], goals["evaluation"]
    opt, queue = goals["optimisations"], goals["queuePeak"]
    return (f"| {name} {row['day']} | {percent(up['value'])} {_SIGN[up['met']]} | "
            f"{'yes' if ev['value'] else 'no'} {_SIGN[ev['met']]} | "
            f"{opt['value']} {_SIGN[opt['met']]} | {number(queue['value'])} "
            f"{_SIGN[queue['met']]} |")


def _trend_line(week: dict[str, Any]) -> str:
    return (f"| {week['week']} | {week['days']} | {percent(week['uptime'])} "
            f"{_SIGN[week['uptimeMet']]} | {week['evaluations']}/{week['days']} | "
            f"{week['optimisations']} {_SIGN[week['optimisationsMet']]} | "
            f"{week['queueHeldDays']}/{week['days']} |")


def render_week_markdown(report: dict[str, Any]) -> str:
    summary = report["summary"]
    lines = [f"# claude-runner weekly report — {report['week']}", "",
             f"Monday {report['from']} to Sunday {report['to']}; generated "
             f"{report['generatedAt'][:19].replace('T', ' ')}.", "",
             "## Goals by day", "",
             f"Targets: uptime > {number(UPTIME_TARGET)} %, an evaluation every day, "
             f">= {OPTIMISATIONS_TARGET} optimisations per ISO week (counted so far), "
             "queue peak at or under the high watermark.", "",
             "| Day | Uptime | Evaluation | Optimisations (week so far) | Queue peak |",
             "| --- | ---: | --- | ---: | ---: |",
             *[_day_line(row) for row in report["days"]], "",
             f"## Optimisations in {report['week']}: {summary['optimisations']}", ""]
    for item in summary["optimisationList"]:
        lines.append(f"- {item['id']} [{item['role'] or '-'}]: "
                     + ("; ".join(item["subjects"]) or "(kind optimisation)"))
    lines += ["" if summary["optimisationList"] else "None yet.", "",
              "## Trend over the last 4 weeks", "", f"![trend]({report['week']}.svg)", "",
              "| Week | Days | Uptime (mean) | Evaluations | Optimisations | Queue held |",
              "| --- | ---: | ---: | ---: | ---: | ---: |",
              *[_trend_line(week) for week in report["trend"]]]
    return "\n".join(lines).rstrip() + "\n"


# (title, value of a week, the top of its scale, the target line)
_PANELS = (
    ("Uptime (mean %)", lambda w: w["uptime"], 100.0, UPTIME_TARGET),
    ("Evaluations (days)", lambda w: w["evaluations"], 7.0, 7.0),
    ("Optimisations", lambda w: w["optimisations"], None, float(OPTIMISATIONS_TARGET)),
    ("Queue held (days)", lambda w: w["queueHeldDays"], 7.0, 7.0),
)


def render_week_svg(report: dict[str, Any]) -> str:
    """Four small panels, one per goal, each with a bar per week and its target line."""
    weeks = report["trend"]
    width, height, panel_w, top, plot_h = 760, 220, 180, 44, 130
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>Goals, 4-week trend to {escape(report['week'])}</title>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="10" y="18" font-size="13" font-weight="bold">Goals, last '
           f"{len(weeks)} weeks to {escape(report['week'])}</text>"]
    for index, (title, value_of, scale, target) in enumerate(_PANELS):
        left = 10 + index * (panel_w + 10)
        values = [value_of(week) for week in weeks]
        top_value = scale or max([target * 2, *[v or 0 for v in values]])
        out.append(f'<text x="{left}" y="{top - 10}" font-weight="bold">{title}</text>')
        slot = panel_w / len(weeks)
        for i, (week, value) in enumerate(zip(weeks, values, strict=True)):
            h = plot_h * (value or 0) / top_value
            x = left + i * slot + slot * 0.15
            out.append(f'<rect class="week" data-week="{week["week"]}" '
                       f'data-value="{DASH if value is None else value}" x="{x:.1f}" '
                       f'y="{top + plot_h - h:.1f}" width="{slot * 0.7:.1f}" height="{h:.1f}" '
                       f'fill="#4c78a8"><title>{week["week"]}: {value}</title></rect>')
            out.append(f'<text x="{x + slot * 0.35:.1f}" y="{top + plot_h + 14}" '
                       f'text-anchor="middle">W{week["week"][-2:]}</text>')
        y = top + plot_h - plot_h * target / top_value
        out.append(f'<line class="target" x1="{left}" y1="{y:.1f}" x2="{left + panel_w}" '
                   f'y2="{y:.1f}" stroke="#e45756" stroke-dasharray="4 3"/>')
    out.append("</svg>")
    return "\n".join(out) + "\n"
