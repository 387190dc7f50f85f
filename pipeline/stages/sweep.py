"""The sweep: queue.json entries other agents wrote become valid queued tasks.

Every change of queue.json is swept: an entry without an id or createdAt gets them, an
invalid one is archived in failed.json with outcome `invalid` (under the queue's lock,
before the queue is written: never lost), and the rest are the queued tasks.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from pipeline.domain import limits
from pipeline.domain.clock import iso
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, new_id, salvaged_task
from pipeline.domain.validation import FieldError, validate
from pipeline.stages.archive import Archive
from pipeline.storage.queue import TaskQueue


@dataclass(frozen=True)
class Split:
    keep: list[Any]                                   # the entries to keep, as written
    tasks: list[Task]                                 # the same entries, typed
    invalid: list[tuple[Task, list[FieldError]]]      # with the reasons of each

    def unchanged(self, entries: list[Any]) -> bool:
        return not self.invalid and self.keep == entries


Known = dict[str, tuple[Any, Task]]  # id -> (the entry found valid, its task)


def split_queue(entries: list[Any], settings: Settings, now: datetime,
                known: Known | None = None) -> Split:
    """queue.json entries -> the valid ones (normalized) and the invalid ones with reasons.

    Entries another agent wrote without an id or createdAt get them here; an
    invalid entry without a usable id gets a generated one for its record. `known`:
    entries found valid before, by id - an equal entry is not validated (nor read)
    again (the queue is swept after every change: this keeps the sweep cheap as it grows).
    """
    split = Split([], [], [])
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        task = _known_task(entry, known, seen)
        if task is not None:
            split.keep.append(entry)
        else:
            task = _admit_entry(entry, index, settings, now, seen, split)
            if task is None:
                continue
        seen.add(task.id)
        split.tasks.append(task)
    return split


def _admit_entry(entry: Any, index: int, settings: Settings, now: datetime,  # noqa: ANN401
                 seen: set[str], split: Split) -> Task | None:
    errors = validate(entry, settings, index)
    raw = dict(entry) if isinstance(entry, dict) else {"value": entry}
    if not errors and raw.get("id") in seen:
        errors = [FieldError(index, "id", f"duplicate of a queued task: {raw['id']}")]
    if errors:
        task = salvaged_task(limits.flatten_deep(raw), now)  # its record can be written
        if task.id in seen:
            task = replace(task, id=new_id(now))
        split.invalid.append((task, errors))
        return None
    if not raw.get("id"):
        raw["id"] = new_id(now)
    if "createdAt" not in raw:
        raw["createdAt"] = iso(now)
    split.keep.append(raw if raw != entry else entry)
    return Task.from_dict(raw)


def _known_task(entry: Any, known: Known | None, seen: set[str]) -> Task | None:  # noqa: ANN401
    if known is None or not isinstance(entry, dict):
        return None
    task_id = entry.get("id")
    if not isinstance(task_id, str) or task_id in seen:
        return None
    found = known.get(task_id)
    return found[1] if found and found[0] == entry else None


def sweep_queue(queued: list[Any], queue: TaskQueue, archive: Archive, settings: Settings,
                now: datetime, known: Known | None = None) -> list[Task]:
    """Give agent-written queue entries ids; move invalid ones to failed.json (archived
    under the queue's lock before the queue is written: never lost). Returns the queued
    tasks. `known` is refreshed with the entries found valid (see split_queue)."""
    split = split_queue(queued, settings, now, known)
    if known is not None:
        known.clear()
        known.update((task.id, (entry, task)) for entry, task in zip(split.keep, split.tasks,
                                                                      strict=True))
    if split.unchanged(queued):
        return split.tasks

    def change(data: dict[str, Any]) -> list[Task]:
        fresh = split_queue(data["list"], settings, now)
        for task, errors in fresh.invalid:
            reason = "; ".join(str(e) for e in errors)
            archive.record_end(task, Outcome.INVALID, now, reason, attempts=0)
        data["list"] = fresh.keep
        return fresh.tasks

    return queue.file.update(change)
