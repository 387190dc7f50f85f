"""The schedule stage: fire due schedules from tasks/scheduled.json into the queue.

Planning is pure (schedules.py); this stage does the I/O in a crash-safe order:
copies are enqueued first, then lastRun/nextRun are saved under the lock. A copy's
id is `<scheduleId>-<slot ms>`, so if we crash in between, the repeated firing is
refused as a duplicate and the slot still runs once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.schedule import Schedule, schedule_entries, schedules_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.log import logger
from pipeline.scheduling.checks import copy_problem
from pipeline.scheduling.plan import Decision, apply_changes, plan
from pipeline.stages.prompt_context import with_context
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue


def active_schedule_ids(queued: list[Task], running: Attempt | None) -> set[str]:
    """Schedules that have a copy queued or running (they must not pile up)."""
    tasks = queued + ([running.task] if running else [])
    return {task.scheduled_id for task in tasks if task.scheduled_id is not None}


def next_wake(schedules: list[Schedule]) -> datetime | None:
    moments = [parse_iso_or_none(s.next_run) for s in schedules]
    return min((m for m in moments if m), default=None)


class Scheduler:
    def __init__(self, layout: Layout, queue: TaskQueue, catch_up_grace: float,
                 events: EventLog) -> None:
        self.layout = layout
        self.events = events
        self.queue = queue
        self.file = JsonFile(layout.scheduled, "tasks")
        self.catch_up_grace = catch_up_grace
        self.settings: Settings = queue.settings

    def tick(self, now: datetime, queued: list[Task], running: Attempt | None,
             queue_full: bool) -> datetime | None:
        """Fire what is due; return the next firing time. Raises CorruptFile."""
        entries = schedule_entries(self.file.items())
        decisions = plan(entries, now, active_schedule_ids(queued, running), queue_full,
                         self.catch_up_grace, lambda task: copy_problem(task, self.settings))
        if not decisions:
            return next_wake([s for s in entries if s is not None])
        level = self.queue.level(len(queued)).value
        fired = [d for d in decisions
                 if d.fire is None or self._enqueue(d, entries[d.index], now, level)]
        return next_wake(schedules_in(self._save(fired)))

    def _enqueue(self, decision: Decision, schedule: Schedule | None, now: datetime,
                 level: str) -> bool:
        """True when the slot's copy is in the queue (now or from before a crash)."""
        assert decision.fire is not None and schedule is not None
        task = with_context(self.layout, schedule, decision.fire, now, level)
        try:
            self.queue.enqueue([task.to_dict()], now)
        except DuplicateIds:
            logger.info("schedule {}: copy {} was already enqueued", decision.schedule_id,
                        task.id)
            return True
        except QueueFull:
            return False  # the queue filled up since planning: try again next tick
        logger.bind(task=task.id).info("schedule {} fired", decision.schedule_id)
        self.events.emit(EventKind.SCHEDULE_FIRED, scheduleId=decision.schedule_id,
                         taskId=task.id)
        return True

    def _save(self, decisions: list[Decision]) -> list[Any]:
        def change(data: dict[str, Any]) -> list[Any]:
            schedules = data["tasks"]
            for decision in decisions:
                position = _find(schedules, decision)
                if position is not None:
                    schedules[position] = apply_changes(schedules[position], decision.changes)
                self._report(decision)
            return schedules

        return self.file.update(change)

    def _report(self, decision: Decision) -> None:
        if decision.skip_reason:
            logger.info("schedule {} skipped a slot: {}", decision.schedule_id,
                        decision.skip_reason)
            self.events.emit(EventKind.SCHEDULE_SKIPPED, scheduleId=decision.schedule_id,
                             reason=decision.skip_reason)
        error = decision.changes.get("error")
        if isinstance(error, str):
            logger.error("schedule {}: {}", decision.schedule_id or "(no id)", error)


def _find(schedules: list[Any], decision: Decision) -> int | None:
    """The decision's schedule, by position if it is still there, else by id (the file
    may have been edited between planning and saving)."""
    entries = schedule_entries(schedules)

    def matches(index: int) -> bool:
        entry = entries[index] if 0 <= index < len(entries) else None
        return entry is not None and entry.label == decision.schedule_id

    if matches(decision.index):
        return decision.index
    return next((i for i in range(len(schedules)) if matches(i)), None)

