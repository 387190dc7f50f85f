"""The seed's four goals, measured for one day of the report.

* **uptime** - the day's uptime and the mean of the last 7 days with data (the day
  included) against 99 %;
* **evaluation** - `docs/evaluations/YYYY-MM-DD.md` written for the day in the workspace of
  an evaluation schedule (`"kind": "evaluation"` in tasks/scheduled.json, as `init` writes);
* **optimisations** - in the day's ISO week up to the day, against 2: a successful task
  whose record's git facts show at least one new commit, or a task with
  `"kind": "optimisation"`; listed with their commit subjects;
* **queuePeak** - the day's queue peak against the high watermark, with the time spent full.

Each goal is `{"target", "value", "met"}` plus details; `met` is None when there is
nothing to judge (e.g. no uptime data).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from pipeline.domain import fields as f
from pipeline.domain.record import Record
from pipeline.domain.schedule import schedules_in
from pipeline.execution.gitfacts import subjects_between
from pipeline.report.data import record_end
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

UPTIME_TARGET = 99.0
OPTIMISATIONS_TARGET = 2
EVALUATIONS = Path("docs") / "evaluations"


def iso_week(day: date) -> str:
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@dataclass(frozen=True, slots=True, kw_only=True)
class GitFacts:
    """A record's `git` object (execution/gitfacts.py writes it), as far as the goals
    read it; a record without one reads as no commits."""
    commits: int | None = f.key("commits", f.is_int)
    subjects: tuple[Any, ...] | None = f.key("subjects", lambda v: isinstance(v, list), seq=True)
    head_before: str | None = f.key("headBefore", f.is_str)
    head_after: str | None = f.key("headAfter", f.is_text)

    @classmethod
    def of(cls, record: Record) -> GitFacts:
        raw = record.task.extra.get("git")
        return cls(**f.split(cls, raw)[0]) if isinstance(raw, Mapping) else cls()


def is_optimisation(record: Record) -> bool:
    if not record.succeeded:
        return False
    return (GitFacts.of(record).commits or 0) > 0 or record.task.kind == "optimisation"


def commit_subjects(record: Record, root: Path) -> list[str]:
    """The record's `git.subjects`, else asked of git (head before..after)."""
    git = GitFacts.of(record)
    if git.subjects is not None:
        return [str(subject) for subject in git.subjects]
    if git.head_after is None:
        return []
    workspace = Path(record.task.workspace or root)
    return subjects_between(workspace, git.head_before, git.head_after) or []


def optimisations(records: list[Record], root: Path) -> list[dict[str, Any]]:
    """The optimisations among `records`, in the order they ended."""
    found = [r for r in records if is_optimisation(r)]
    found.sort(key=lambda r: (record_end(r) is None, record_end(r) or 0))
    return [{"id": r.id, "role": r.task.role, "kind": r.task.kind,
             "completedAt": r.completed_at, "commits": GitFacts.of(r).commits or 0,
             "subjects": commit_subjects(r, root)} for r in found]


def evaluation_folders(layout: Layout) -> list[Path]:
    """docs/evaluations of every evaluation schedule's workspace."""
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except (CorruptFile, OSError):
        return []
    folders = []
    for schedule in schedules_in(schedules):
        if schedule.extra.get("kind") == "evaluation":  # a task field of its copies
            folder = Path(schedule.workspace or layout.root) / EVALUATIONS
            if folder not in folders:
                folders.append(folder)
    return folders


def evaluation_for(day: date, folders: list[Path]) -> Path | None:
    return next((f / f"{day}.md" for f in folders if (f / f"{day}.md").is_file()), None)


def _goal(target: Any, value: Any, met: bool | None, **details: Any) -> dict[str, Any]:
    return {"target": target, "value": value, "met": met, **details}


def uptime_goal(today: float | None, last_days: list[float | None]) -> dict[str, Any]:
    """`last_days`: the uptime of the day and the 6 before it (None: no data that day)."""
    known = [value for value in last_days if value is not None]
    week = round(sum(known) / len(known), 4) if known else None
    met = None if today is None else today > UPTIME_TARGET and (
        week is None or week > UPTIME_TARGET)
    return _goal(UPTIME_TARGET, today, met, last7Days=week)


def evaluation_goal(path: Path | None, folders: list[Path]) -> dict[str, Any]:
    return _goal(True, path is not None, path is not None,
                 path=str(path) if path else None, folders=[str(f) for f in folders])


def optimisations_goal(week: str, found: list[dict[str, Any]]) -> dict[str, Any]:
    return _goal(OPTIMISATIONS_TARGET, len(found), len(found) >= OPTIMISATIONS_TARGET,
                 week=week, list=found)


def queue_goal(backpressure: dict[str, Any], high_watermark: int) -> dict[str, Any]:
    peak, full = backpressure["queuePeak"], backpressure["fullSeconds"]
    return _goal(high_watermark, peak, (peak is None or peak <= high_watermark) and not full,
                 fullSeconds=backpressure["fullSeconds"],
                 fullEpisodes=backpressure["fullEpisodes"])


def day_goals(layout: Layout, day: date, records_by_day: dict[date, list[Record]],
              sections: dict[str, Any], previous_uptimes: list[float | None],
              high_watermark: int) -> dict[str, Any]:
    """The four goals of `day`; `records_by_day` must reach back to the week's Monday,
    `previous_uptimes` holds the uptime of the 6 days before it (None: no data)."""
    monday = week_start(day)
    week = [r for offset in range((day - monday).days + 1)
            for r in records_by_day.get(monday + timedelta(days=offset), [])]
    today = sections["uptime"]["percent"] if sections["hasData"] else None
    folders = evaluation_folders(layout)
    return {
        "uptime": uptime_goal(today, [*previous_uptimes, today]),
        "evaluation": evaluation_goal(evaluation_for(day, folders), folders),
        "optimisations": optimisations_goal(iso_week(day), optimisations(week, layout.root)),
        "queuePeak": queue_goal(sections["backpressure"], high_watermark),
    }
