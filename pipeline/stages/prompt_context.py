"""The values of a schedule's prompt placeholders at the moment its copy is enqueued
(the I/O side of `pipeline.scheduling.placeholders`, which fills them)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

from pipeline.domain.schedule import Schedule
from pipeline.domain.task import Task
from pipeline.scheduling.checks import zone_of
from pipeline.scheduling.cron_syntax import CronError
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


def values(layout: Layout, schedule: Schedule, task: Task, now: datetime,
           level: str) -> dict[str, str]:
    try:
        zone = zone_of(schedule)
    except CronError:
        zone = None
    today = now.astimezone(zone).date()
    workspace = Path(task.workspace or layout.root)
    evaluation = latest_evaluation(workspace)
    return {
        "date": today.isoformat(),
        "schedule_id": str(schedule.written("id") or ""),
        "last_run": str(schedule.written("lastRun") or "never"),
        "report_path": str(layout.logs / "reports" / f"{today - timedelta(days=1)}.md"),
        "evaluation_path": str(evaluation) if evaluation else NO_EVALUATION,
        "queue_level": level,
    }


def with_context(layout: Layout, schedule: Schedule, task: Task, now: datetime,
                 level: str) -> Task:
    """The copy with its prompt filled (unchanged when the prompt has no placeholder)."""
    prompt = task.prompt
    if "{" not in prompt and "}" not in prompt:
        return task
    if prompt_problem(prompt):
        return task  # the planner never fires such a schedule; `schedule run` refuses it
    return replace(task, prompt=fill(prompt, values(layout, schedule, task, now, level)))
