"""The goals section of the daily report: Markdown, and one line for its chart."""

from __future__ import annotations

from typing import Any

from pipeline.report.format import cell, number, percent, span

GOAL_ROWS = (
    ("Uptime", "uptime"),
    ("Evaluation written", "evaluation"),
    ("Optimisations this ISO week", "optimisations"),
    ("Queue peak", "queuePeak"),
)


def mark(met: bool | None) -> str:
    return {True: "✓ met", False: "✗ not met", None: "– no data"}[met]


def _target(key: str, goal: dict[str, Any]) -> str:
    return {"uptime": f"> {number(goal['target'])} % (day and 7 days)",
            "evaluation": "yes",
            "optimisations": f">= {goal['target']} per week",
            "queuePeak": f"<= {goal['target']} queued"}[key]


def _value(key: str, goal: dict[str, Any]) -> str:
    if key == "uptime":
        return f"{percent(goal['value'])} day, {percent(goal['last7Days'])} 7 days"
    if key == "evaluation":
        return goal["path"] or "no"
    if key == "optimisations":
        return f"{goal['value']} ({goal['week']})"
    full = f", full for {span(goal['fullSeconds'])}" if goal["fullSeconds"] else ", never full"
    return number(goal["value"]) + full


def goals_markdown(report: dict[str, Any]) -> list[str]:
    goals = report["goals"]
    lines = ["## Goals", "", "| Goal | Target | Value | Met |", "| --- | --- | --- | --- |"]
    lines += [f"| {label} | {cell(_target(key, goals[key]))} | {cell(_value(key, goals[key]))} "
              f"| {mark(goals[key]['met'])} |" for label, key in GOAL_ROWS]
    lines.append("")
    for item in goals["optimisations"]["list"]:
        subjects = "; ".join(item["subjects"]) or "(no commit: kind optimisation)"
        lines.append(f"- {item['id']} [{item['role'] or '-'}]: {subjects}")
    return lines + ([""] if goals["optimisations"]["list"] else [])


def goals_line(report: dict[str, Any]) -> str:
    """One line for the chart: each goal's mark."""
    goals = report["goals"]
    signs = {True: "✓", False: "✗", None: "–"}
    opt = goals["optimisations"]
    return (f"Goals: uptime {signs[goals['uptime']['met']]}  evaluation "
            f"{signs[goals['evaluation']['met']]}  optimisations {opt['value']}/{opt['target']} "
            f"{signs[opt['met']]}  queue peak {signs[goals['queuePeak']['met']]}")
