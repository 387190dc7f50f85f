"""The daily report as a Markdown page and a hand-written SVG bar chart."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from pipeline.report.format import cell, delta_of, number, percent, rate, span, usd, value_of, when
from pipeline.report.goals_render import goals_line, goals_markdown

# (label, summary key, kind) of the rows of the summary table.
SUMMARY_ROWS = (
    ("Uptime", "uptimePercent", "percent"),
    ("Downtime", "downtimeSeconds", "seconds"),
    ("Restarts", "restarts", "count"),
    ("Crash restarts", "crashes", "count"),
    ("Tasks finished", "tasks", "count"),
    ("Completed", "completed", "count"),
    ("Failed", "failed", "count"),
    ("Retried", "retried", "count"),
    ("Timed out", "timedOut", "count"),
    ("Success rate", "successRate", "rate"),
    ("Median duration", "medianMs", "ms"),
    ("p95 duration", "p95Ms", "ms"),
    ("Cost", "costUsd", "usd"),
    ("Usage-limit pauses", "pauses", "count"),
    ("Time paused", "pauseSeconds", "seconds"),
    ("Queue full (times)", "fullEpisodes", "count"),
    ("Queue peak", "queuePeak", "count"),
    ("Schedule firings", "scheduleFired", "count"),
    ("Schedule skips", "scheduleSkipped", "count"),
)


def _table(header: list[str], rows: list[list[Any]], align: str = "") -> list[str]:
    """A Markdown table; `align` has one letter per column, "r" for right-aligned."""
    marks = ["---:" if align[i:i + 1] == "r" else "---" for i in range(len(header))]
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join(marks) + " |"]
    lines += ["| " + " | ".join(cell(value) for value in row) + " |" for row in rows]
    return lines + [""]


def _summary(report: dict[str, Any]) -> list[str]:
    compare = report["comparison"]
    head = f"Average of {compare['days']} day(s) with data, {compare['from']} to {compare['to']}"
    rows = [[label, value_of(kind, report["summary"][key]),
             value_of(kind, compare["average"][key]), delta_of(kind, compare["delta"][key])]
            for label, key, kind in SUMMARY_ROWS]
    return ["## Summary", "", head + ".", "",
            *_table(["Figure", report["day"], "7-day average", "Change"], rows, "lrrr")]


def _uptime(report: dict[str, Any]) -> list[str]:
    up = report["uptime"]
    restarts = report["restarts"]
    causes = ", ".join(f"{n} {cause}" for cause, n in restarts["byCause"].items())
    lines = ["## Uptime", "",
             f"Up {percent(up['percent'])} of the window: {span(up['upSeconds'])} up, "
             f"{span(up['downSeconds'])} down in {len(up['gaps'])} gap(s) "
             f"(a heartbeat gap over {number(report['maxGapSeconds'])} s counts as downtime).",
             "", f"Restarts: {restarts['total']} ({causes}).", ""]
    if up["gaps"]:
        rows = [[when(g["start"]), when(g["end"]), span(g["seconds"])] for g in up["gaps"]]
        lines += _table(["Down from", "Until", "Length"], rows, "llr")
    return lines


def _tasks(report: dict[str, Any]) -> list[str]:
    tasks, durations = report["tasks"], report["durations"]
    lines = ["## Tasks", "",
             f"{tasks['total']} finished: {tasks['completed']} completed, {tasks['failed']} failed "
             f"({tasks['timedOut']} timed out, {tasks['cancelled']} cancelled); "
             f"success rate {rate(tasks['successRate'])}. Retried: {tasks['retried']}"
             + (f" ({', '.join(tasks['retriedIds'])})." if tasks["retriedIds"] else "."),
             "",
             f"Duration over {durations['count']} task(s): median "
             f"{value_of('ms', durations['medianMs'])}, p95 {value_of('ms', durations['p95Ms'])}, "
             f"max {value_of('ms', durations['maxMs'])}.", ""]
    if tasks["outcomes"]:
        lines += _table(["Outcome", "Tasks"], [list(i) for i in tasks["outcomes"].items()], "lr")
    return lines


def _cost(report: dict[str, Any]) -> list[str]:
    cost = report["cost"]
    lines = ["## Cost", "", f"Total {usd(cost['totalUsd'])} "
             f"({cost['tasksWithCost']} task(s) reported a cost), of which "
             f"{usd(cost['failedAttemptsUsd'])} spent on failed attempts.", ""]
    rows = [[role, entry["tasks"], entry["failed"], usd(entry["costUsd"]),
             usd(entry["failedAttemptsUsd"])] for role, entry in cost["byRole"].items()]
    lines += _table(["Role", "Tasks", "Failed", "Cost", "On failed attempts"], rows,
                    "lrrrr") if rows else []
    accounts = [[name, entry["tasks"], entry["failed"], usd(entry["costUsd"])]
                for name, entry in cost.get("byAccount", {}).items()]
    return lines + (_table(["Account", "Tasks", "Failed", "Cost"], accounts, "lrrr")
                    if accounts else [])


def _pauses(report: dict[str, Any]) -> list[str]:
    pauses, back = report["pauses"], report["backpressure"]
    lines = ["## Usage-limit pauses and backpressure", "",
             f"{pauses['count']} pause(s), {span(pauses['seconds'])} paused this day.", ""]
    if pauses["list"]:
        rows = [[when(p["start"]), when(p["end"]) + (" (open)" if p["open"] else ""),
                 p["reason"], span(p["seconds"])] for p in pauses["list"]]
        lines += _table(["Paused from", "Until", "Reason", "This day"], rows, "lllr")
    peak = number(back["queuePeak"])
    return lines + [f"Queue went full {back['fullEpisodes']} time(s), full for "
                    f"{span(back['fullSeconds'])}; queue peak {peak} "
                    f"({back['levelChanges']} level change(s)).", ""]


def _schedules(report: dict[str, Any]) -> list[str]:
    schedules = report["schedules"]
    lines = ["## Schedules", "",
             f"{schedules['fired']} firing(s), {schedules['skipped']} skip(s).", ""]
    rows = [[sid, e["fired"], e["skipped"],
             ", ".join(f"{reason} ×{n}" for reason, n in e["skipReasons"].items())]
            for sid, e in schedules["byId"].items()]
    lines += _table(["Schedule", "Fired", "Skipped", "Skip reasons"], rows, "lrrl") if rows \
        else []
    health = [[h["id"], *(h["lastDay"][k] for k in ("expected", "enqueued", "completed",
                                                     "failed", "skipped")),
               h["late"] or "no"] for h in report.get("scheduleHealth", [])]
    return lines + (_table(["Schedule (last 24 h)", "Expected", "Enqueued", "Completed",
                            "Failed", "Skipped", "Late"], health, "lrrrrrl") if health else [])


def _failures(report: dict[str, Any]) -> list[str]:
    rows = [[f["count"], f["reason"], ", ".join(f["taskIds"])] for f in report["failures"]]
    if not rows:
        return ["## Top failure reasons", "", "No failures.", ""]
    return ["## Top failure reasons", "", *_table(["Count", "Reason", "Tasks"], rows, "rll")]


def _hourly(report: dict[str, Any]) -> list[str]:
    tasks, failed = report["hourly"]["tasks"], report["hourly"]["failed"]
    rows = [[f"{hour:02d}:00", tasks[hour], failed[hour]] for hour in range(24) if tasks[hour]]
    lines = ["## Tasks per hour", "", f"![tasks per hour]({report['day']}.svg)", ""]
    return lines + (_table(["Hour", "Tasks", "Failed"], rows, "lrr") if rows else [])


def render_markdown(report: dict[str, Any]) -> str:
    window = report["window"]
    lines = [f"# claude-runner daily report — {report['day']}", "",
             f"Window {when(window['start'])} to {when(window['end'])}; "
             f"generated {when(report['generatedAt'])}.", ""]
    for section in (goals_markdown, _summary, _uptime, _tasks, _cost, _pauses, _schedules,
                    _failures, _hourly):
        lines += section(report)
    return "\n".join(lines).rstrip() + "\n"


def _ceiling(value: int) -> int:
    """The chart's top: a round number at or above the largest bar."""
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000):
        if value <= step * 4:
            return step * 4
    return -(-value // 1000) * 1000


def render_svg(report: dict[str, Any]) -> str:
    """Tasks (blue) and failures (red) per hour as paired bars; each bar carries
    data-hour / data-value attributes and a <title> tooltip."""
    tasks, failed = report["hourly"]["tasks"], report["hourly"]["failed"]
    width, height, left, top, bottom = 720, 260, 44, 34, 36
    plot_w, plot_h = width - left - 12, height - top - bottom
    top_value = _ceiling(max([*tasks, *failed, 1]))
    slot, bar = plot_w / 24, plot_w / 24 * 0.38
    title = f"Tasks per hour, {report['day']}"
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<rect width="{width}" height="{height}" fill="#ffffff"/>',
           f'<text x="{left}" y="18" font-size="13" font-weight="bold">{escape(title)}</text>']
    for i in range(5):
        value = top_value * i // 4
        y = top + plot_h - plot_h * i / 4
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                   f'stroke="#dddddd"/>')
        out.append(f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{value}</text>')
    for hour in range(24):
        x = left + hour * slot + slot * 0.1
        for kind, values, color, shift in (("tasks", tasks, "#4c78a8", 0.0),
                                           ("failed", failed, "#e45756", bar)):
            h = plot_h * values[hour] / top_value
            out.append(f'<rect class="{kind}" data-hour="{hour}" data-value="{values[hour]}" '
                       f'x="{x + shift:.1f}" y="{top + plot_h - h:.1f}" width="{bar:.1f}" '
                       f'height="{h:.1f}" fill="{color}"><title>{hour:02d}:00 '
                       f'{values[hour]} {kind}</title></rect>')
        if hour % 3 == 0:
            out.append(f'<text x="{x + bar:.1f}" y="{top + plot_h + 16}" '
                       f'text-anchor="middle">{hour:02d}</text>')
    legend_x = width - 150
    out += [f'<rect x="{legend_x}" y="8" width="10" height="10" fill="#4c78a8"/>',
            f'<text x="{legend_x + 14}" y="17">tasks ({sum(tasks)})</text>',
            f'<rect x="{legend_x + 75}" y="8" width="10" height="10" fill="#e45756"/>',
            f'<text x="{legend_x + 89}" y="17">failed ({sum(failed)})</text>']
    if "goals" in report:
        out.append(f'<text class="goals" x="{left}" y="{height - 4}">'
                   f"{escape(goals_line(report))}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"
