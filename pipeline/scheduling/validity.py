"""Why a schedule cannot fire: its own fields (checks.schedule_problem), then the task copy
it would enqueue, checked exactly as an inbox task. Used by `schedule enable|run` and
`doctor`, which must answer while the daemon is down."""

from __future__ import annotations

from datetime import datetime

from pipeline.domain.schedule import Schedule
from pipeline.domain.settings import Settings
from pipeline.scheduling.checks import copy_problem, schedule_problem
from pipeline.scheduling.plan import copy_fields


def problem_of(schedules: list[Schedule], schedule: Schedule, settings: Settings,
               now: datetime) -> str | None:
    earlier = schedules[:schedules.index(schedule)]
    seen = {s.id for s in earlier if s.id is not None}
    return schedule_problem(schedule, seen) or copy_problem(copy_fields(schedule, now), settings)


def enabled_problems(schedules: list[Schedule], settings: Settings, now: datetime
                     ) -> list[tuple[str, str]]:
    """(id, problem) of every enabled schedule that cannot fire."""
    found = []
    for schedule in schedules:
        if schedule.enabled:
            problem = problem_of(schedules, schedule, settings, now)
            if problem:
                found.append((str(schedule.written("id")), problem))
    return found
