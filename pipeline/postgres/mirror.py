"""tasks/queue.json in the postgres backend: a mirror of the queued tasks that other
programs may still edit, read as a diff against the last mirror (pure).

What an edit means (README, "The postgres backend"):
- an entry whose id the database does not know is admitted (validated as today);
- an entry with the id of a finished task whose result is archived is admitted
  again (that is what `claude-runner retry ID` writes);
- an entry removed from the file while its task is still queued cancels it;
- anything else cannot be honoured and is answered in the log and events.jsonl
  (`queue_edit_ignored`): a changed field of a queued task, a new order, the
  removal of a running task (use `claude-runner cancel ID`), a second entry for a
  queued or running id. Then the file is rewritten from the database.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pipeline.domain.task import Task


class Act(StrEnum):
    ADMIT = "admit"
    READMIT = "readmit"
    CANCEL = "cancel"
    IGNORE = "ignore"


@dataclass(frozen=True)
class Step:
    act: Act
    task_id: str
    task: Task | None = None
    reason: str = ""


@dataclass
class Plan:
    steps: list[Step] = field(default_factory=list)

    def add(self, act: Act, task_id: str, task: Task | None = None,
            reason: str = "") -> None:
        self.steps.append(Step(act, task_id, task, reason))


def plan(entries: list[Task], mirror: list[Task], states: dict[str, str]) -> Plan:
    """`entries`: the file now (valid tasks); `mirror`: what we wrote last;
    `states`: the database state of every id in either."""
    mirrored = {task.id: task for task in mirror}
    present = {task.id for task in entries}
    result = Plan()
    for task in entries:
        _entry_step(result, task, mirrored.get(task.id), states.get(task.id))
    for task_id in mirrored:
        if task_id not in present:
            _removal_step(result, task_id, states.get(task_id))
    if _order(entries, mirrored) != _order(mirror, present):
        result.add(Act.IGNORE, "*", reason="a new order of the queue is not honoured: nodes "
                   "take high priority first, then retries, then the oldest")
    return result


def _entry_step(result: Plan, task: Task, mirrored: Task | None, state: str | None) -> None:
    task_id = task.id
    if state is None:
        result.add(Act.ADMIT, task_id, task)
    elif mirrored is None:
        if state == "done":
            result.add(Act.READMIT, task_id, task)
        else:
            result.add(Act.IGNORE, task_id, reason=f"a task with this id is already {state}")
    elif task != mirrored and state == "queued":
        result.add(Act.IGNORE, task_id, reason="editing a queued task is not honoured; "
                   "cancel it and add a new one")


def _removal_step(result: Plan, task_id: str, state: str | None) -> None:
    if state == "queued":
        result.add(Act.CANCEL, task_id)
    elif state == "running":
        result.add(Act.IGNORE, task_id, reason="removing a running task from queue.json does "
                   "not end it; use `claude-runner cancel ID`")


def _order(tasks: list[Task], keep: Any) -> list[str]:
    return [task.id for task in tasks if task.id in keep]
