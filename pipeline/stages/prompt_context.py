"""The values of a schedule's prompt placeholders at the moment its copy is enqueued
(the I/O side of `pipeline.scheduling.placeholders`, which fills them)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pipeline.scheduling.cron_syntax import CronError, zone_for
from pipeline.scheduling.placeholders import fill, prompt_problem
from pipeline.storage.layout import Layout

EVALUATIONS = Path("docs") / "evaluations"  # in the workspace; written by the evaluation role
NO_EVALUATION = "(none yet)"


def latest_evaluation(workspace: Path) -> Path | None:
    """The newest docs/evaluations/*.md (names are dates, so the last by name)."""
    try:
        found = sorted((workspace / EVALUATIONS).glob("*.md"))
    except OSError:
        return None
    return found[-1] if found else None


def values(layout: Layout, schedule: dict[str, Any], task: dict[str, Any], now: datetime,
           level: str) -> dict[str, str]:
    try:
        zone = zone_for(schedule.get("timezone"))
    except CronError:
        zone = None
    today = now.astimezone(zone).date()
    workspace = Path(task.get("workspace") or layout.root)
    evaluation = latest_evaluation(workspace)
    return {
        "date": today.isoformat(),
        "schedule_id": str(schedule.get("id") or ""),
        "last_run": str(schedule.get("lastRun") or "never"),
        "report_path": str(layout.logs / "reports" / f"{today - timedelta(days=1)}.md"),
        "evaluation_path": str(evaluation) if evaluation else NO_EVALUATION,
        "queue_level": level,
    }


def with_context(layout: Layout, schedule: dict[str, Any], task: dict[str, Any],
                 now: datetime, level: str) -> dict[str, Any]:
    """The copy with its prompt filled (unchanged when the prompt has no placeholder)."""
    prompt = task.get("prompt")
    if not isinstance(prompt, str) or "{" not in prompt and "}" not in prompt:
        return task
    if prompt_problem(prompt):
        return task  # the planner never fires such a schedule; `schedule run` refuses it
    return {**task, "prompt": fill(prompt, values(layout, schedule, task, now, level))}
