"""The doctor's look at tasks/scheduled.json: every schedule that cannot fire, and why
(the same checks the daemon writes to a schedule's `error`, so doctor shows a problem
even before the daemon has seen the file)."""

from __future__ import annotations

from pipeline.doctor.checks import Check
from pipeline.scheduling.checks import schedule_problem
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout


def check_schedules(layout: Layout) -> Check:
    name = "schedules"
    try:
        schedules = [s for s in JsonFile(layout.scheduled, "tasks").items() if isinstance(s, dict)]
    except (CorruptFile, OSError):
        return Check(name, True, "not read (see task files)", level="warning")
    seen: set[str] = set()
    problems = []
    for schedule in schedules:
        problem = schedule_problem(schedule, seen)
        if isinstance(schedule.get("id"), str):
            seen.add(schedule["id"])
        if problem:
            problems.append(f"{schedule.get('id', '?')}: {problem}")
    if problems:
        return Check(name, False, "; ".join(problems),
                     "fix these schedules in tasks/scheduled.json: they do not fire meanwhile")
    return Check(name, True, f"{len(schedules)} schedule(s), none with a problem")
