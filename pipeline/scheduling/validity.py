"""Why a schedule cannot fire: its own fields (checks.schedule_problem), then the task copy
it would enqueue, checked exactly as an inbox task. Used by `schedule enable|run` and
`doctor`, which must answer while the daemon is down."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.settings import Settings
from pipeline.scheduling.checks import copy_problem, is_enabled, schedule_problem
from pipeline.scheduling.plan import task_copy


def problem_of(schedules: list[Any], schedule: dict[str, Any], settings: Settings,
               now: datetime) -> str | None:
    earlier = schedules[:schedules.index(schedule)]
    seen = {s.get("id") for s in earlier if isinstance(s, dict) and isinstance(s.get("id"), str)}
    return schedule_problem(schedule, seen) or copy_problem(task_copy(schedule, now), settings)


def enabled_problems(schedules: list[Any], settings: Settings, now: datetime
                     ) -> list[tuple[str, str]]:
    """(id, problem) of every enabled schedule that cannot fire."""
    found = []
    for schedule in schedules:
        if isinstance(schedule, dict) and is_enabled(schedule.get("enabled")):
            problem = problem_of(schedules, schedule, settings, now)
            if problem:
                found.append((str(schedule.get("id")), problem))
    return found
