"""tasks/queue.json operations shared by the daemon and the CLI.

Every change happens under the queue's FileLock on what is in the file *now*
(rule 1), and whoever sees the length cross a watermark updates the gate.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.gate import Level, batch_fits, level, still_full
from pipeline.domain.record import records_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import NotATask, Task, admit_fields, salvaged_task, tasks_in
from pipeline.domain.validation import FieldError
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.known_ids import RecentIds, ids_of
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile


class QueueFull(Exception):
    """The gate is closed for normal-priority work."""


class TaskQueue:
    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.file = JsonFile(layout.queue, "list")
        self.running = JsonFile(layout.running)
        self.state = StateFile(layout)
        self.recent = RecentIds(layout)
        self.settings = settings

    def entries(self) -> list[Any]:
        """queue.json's entries as written, tasks or not (raises CorruptFile if it cannot
        be parsed); the admit stage sweeps what is not a valid task out."""
        return self.file.items()

    def tasks(self) -> list[Task]:
        """The queued entries that are tasks (raises CorruptFile, as `entries`)."""
        return tasks_in(self.entries())

    def running_attempt(self) -> Attempt | None:
        """What running.json holds (None: idle, or not a task)."""
        try:
            return Attempt.from_dict(self.running.load())
        except NotATask:
            return None

    def level(self, length: int | None = None, full: bool | None = None) -> Level:
        """The backpressure level at `length` queued (default: now), given the gate
        (default: as state.json has it)."""
        length = len(self.entries()) if length is None else length
        full = self.state.gate_full() if full is None else full
        return level(length, full, self.settings.high_watermark, self.settings.low_watermark)

    def sync_gate(self, length: int) -> bool:
        """Record whether the gate is closed after seeing `length`; returns it."""
        was_full = self.state.gate_full()
        full = still_full(length, was_full, self.settings.high_watermark,
                          self.settings.low_watermark)
        if full != was_full:
            self.state.update(gate="full" if full else "open")
        return full

    def taken_ids(self, queued: list[Any]) -> set[str]:
        running = self.running_attempt()
        taken = ids_of(queued) | self.recent.all()
        return taken | {running.id} if running else taken

    def enqueue(self, tasks: list[dict[str, Any]], now: datetime) -> list[Task]:
        """Append validated raw tasks as one all-or-nothing batch; returns them as admitted.

        Raises QueueFull (normal work while the gate is closed) or DuplicateIds.
        """

        def change(data: dict[str, Any]) -> list[Task]:
            queued = data["list"]
            s = self.settings
            high = all(t.get("priority") == "high" for t in tasks)
            if not high and (self.sync_gate(len(queued)) or not
                                                       batch_fits(len(queued), len(tasks),
                                                                  s.high_watermark,
                                                                  s.low_watermark)):
                raise QueueFull()
            admitted = [admit_fields(task, now) for task in tasks]
            _reject_duplicates(admitted, self.taken_ids(queued))
            queued.extend(task.to_dict() for task in admitted)
            self.sync_gate(len(queued))
            return admitted

        return self.file.update(change)

    def holds_all(self, tasks: list[dict[str, Any]]) -> bool:
        """Whether every (validated, raw) task is already queued, running or archived with
        the same id and prompt: a file admitted once, seen again after a crash (rare: only
        called when the queue refused the file)."""
        prompts = {r.id: r.task.prompt for file in self.recent.files
                   for r in records_in(file.items())}
        prompts.update((task.id, task.prompt) for task in self.tasks())
        running = self.running_attempt()
        if running:
            prompts[running.id] = running.task.prompt
        return bool(tasks) and all(
            task.get("id") in prompts and prompts[task["id"]] == task.get("prompt")
            for task in tasks)

    def push_head(self, task: Task) -> None:
        """Put a task back at the head (a retry or an interrupted run); idempotent by id."""

        def change(data: dict[str, Any]) -> None:
            data["list"] = [task.to_dict()] + [t for t in data["list"] if _id(t) != task.id]
            self.sync_gate(len(data["list"]))

        self.file.update(change)

    def remove(self, task_id: str, now: datetime,
               keep_safe: Callable[[Task], None] | None = None) -> Task | None:
        """Take the task with this id out of the queue; None when it is not there.

        `keep_safe(task)` runs under the lock before the queue is written (e.g. to
        archive it), so a crash in between can duplicate the task but never lose it. An
        entry whose id no task may have (written by hand) is taken as `salvaged_task`
        makes it, with an id generated from `now`.
        """

        def change(data: dict[str, Any]) -> Task | None:
            for position, entry in enumerate(data["list"]):
                if _id(entry) == task_id:
                    task = salvaged_task(entry, now)
                    if keep_safe:
                        keep_safe(task)
                    del data["list"][position]
                    self.sync_gate(len(data["list"]))
                    return task
            return None

        return self.file.update(change)

    def take_all(self, keep_safe: Callable[[Any], None]) -> list[Any]:
        """Empty the queue; `keep_safe(entry)` runs for every entry under the lock before
        the queue is written (as in `remove`)."""

        def change(data: dict[str, Any]) -> list[Any]:
            taken, data["list"] = data["list"], []
            for entry in taken:
                keep_safe(entry)
            self.sync_gate(0)
            return taken

        return self.file.update(change)

    def move_to_head(self, task_id: str) -> bool:
        """Move a queued task to the head, under the lock; False when it is not queued
        (already taken by the daemon, say): nothing is then added back."""

        def change(data: dict[str, Any]) -> bool:
            found = [t for t in data["list"] if _id(t) == task_id]
            if found:
                data["list"] = found[:1] + [t for t in data["list"] if _id(t) != task_id]
            return bool(found)

        return self.file.update(change)


class DuplicateIds(Exception):
    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def _id(task: Any) -> Any:
    return task.get("id") if isinstance(task, dict) else None


def _reject_duplicates(tasks: list[Task], taken: set[str]) -> None:
    seen = set(taken)
    errors = []
    for index, task in enumerate(tasks):
        if task.id in seen:
            errors.append(FieldError(index, "id", f"duplicate of an existing task: {task.id}"))
        seen.add(task.id)
    if errors:
        raise DuplicateIds(errors)
