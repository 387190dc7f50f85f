"""Per-schedule checks for tasks/scheduled.json: can this schedule run, and is it enabled?

`schedule_problem` checks id, prompt (and its placeholders), cron, timezone and jitterSeconds
(`pipeline.scheduling.plan` writes its answer to the schedule's `error` field). Ids must be
1..114 characters of ``A-Za-z0-9._-`` so that the copy's id ``<id>-<epoch ms>`` is a valid
task id; a second schedule with the same id is an error too.
"""

from __future__ import annotations

import math
import re
from datetime import tzinfo
from typing import Any

from pipeline.domain.schedule import Schedule, is_enabled
from pipeline.domain.settings import Settings
from pipeline.domain.validation import validate
from pipeline.scheduling.cron_syntax import CronError, normalize, zone_for
from pipeline.scheduling.placeholders import prompt_problem

__all__ = ["copy_problem", "is_enabled", "schedule_problem", "zone_of"]

_ID = re.compile(r"^[A-Za-z0-9._-]{1,114}$")  # + "-" + 13 digits of epoch ms <= 128


def schedule_problem(schedule: Schedule, seen: set[str]) -> str | None:
    """Why this schedule cannot run, or None; `seen` holds the ids of the schedules before it.
    (Values that do not fit their field are checked as written.)"""
    schedule_id = schedule.id
    if schedule_id is None or not _ID.match(schedule_id):
        return "id is missing or invalid: use 1-114 characters of A-Z a-z 0-9 . _ -"
    if schedule_id in seen:
        return f"duplicate id {schedule_id!r}: an earlier schedule already uses it"
    prompt = schedule.prompt
    if prompt is None or not prompt.strip():
        return "prompt is missing or empty"
    if placeholder := prompt_problem(prompt):
        return placeholder
    if schedule.cron is None and not schedule.unfit("cron"):
        return "cron is missing"
    if not _valid_jitter(schedule.written("jitterSeconds")):
        return "jitterSeconds must be a number of seconds >= 0"
    problem = health_options_problem(schedule)
    if problem:
        return problem
    try:
        normalize(schedule.cron or "")
        zone_of(schedule)
    except CronError as exc:
        return str(exc)
    return None


def zone_of(schedule: Schedule) -> tzinfo:
    """The schedule's time zone (local when it names none). Raises CronError."""
    return zone_for(schedule.written("timezone"))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhd]?)\s*$")
_UNIT = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def duration_seconds(value: Any) -> float | None:
    """`catchUpWithin`: seconds (a number) or "90s", "90m", "2h", "1d"; None when absent.
    Raises ValueError on anything else."""
    if value is None:
        return None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if math.isfinite(value) and value >= 0:
            return float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        return float(match.group(1)) * _UNIT[match.group(2)]
    raise ValueError(value)


def health_options_problem(schedule: Schedule) -> str | None:
    """whenFull, catchUpWithin and lateAfter (minutes) of one schedule."""
    if schedule.unfit("whenFull"):
        return 'whenFull must be "skip" or "defer"'
    try:
        duration_seconds(schedule.written("catchUpWithin"))
    except ValueError:
        return 'catchUpWithin must be seconds or a duration like "90m", "2h"'
    late = schedule.written("lateAfter")
    if late is not None and not (_valid_jitter(late) and late > 0):
        return "lateAfter must be a number of minutes > 0"
    return None


def _valid_jitter(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value) and value >= 0


def copy_problem(task: dict[str, Any], settings: Settings) -> str | None:
    """Why a schedule's task copy (as `plan.copy_fields` writes it) would be refused as an
    inbox task, or None."""
    errors = validate(task, settings)
    return "; ".join(str(e) for e in errors) if errors else None
