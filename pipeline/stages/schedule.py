"""The schedule stage: fire due schedules from tasks/scheduled.json into the queue.

Planning is pure (schedules.py); this stage does the I/O in a crash-safe order:
copies are enqueued first, then lastRun/nextRun are saved under the lock. A copy's
id is `<scheduleId>-<slot ms>`, so if we crash in between, the repeated firing is
refused as a duplicate and the slot still runs once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.settings import Settings
from pipeline.log import logger
from pipeline.scheduling.checks import copy_problem
from pipeline.scheduling.plan import Decision, apply_changes, plan
from pipeline.stages.prompt_context import with_context
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue


def active_schedule_ids(queued: list[Any], running: dict[str, Any] | None) -> set[str]:
    """Schedules that have a copy queued or running (they must not pile up)."""
    tasks = [t for t in queued if isinstance(t, dict)] + ([running] if running else [])
    return {t["scheduledId"] for t in tasks if isinstance(t.get("scheduledId"), str)}


def next_wake(schedules: list[Any]) -> datetime | None:
    moments = [parse_iso_or_none(s.get("nextRun")) for s in schedules if isinstance(s, dict)]
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

    def tick(self, now: datetime, queued: list[Any], running: dict[str, Any] | None,
             queue_full: bool) -> datetime | None:
        """Fire what is due; return the next firing time. Raises CorruptFile."""
        schedules = self.file.items()
        decisions = plan(schedules, now, active_schedule_ids(queued, running), queue_full,
                         self.catch_up_grace, lambda task: copy_problem(task, self.settings))
        if not decisions:
            return next_wake(schedules)
        level = self.queue.level(len(queued)).value
        fired = [d for d in decisions
                 if d.fire is None or self._enqueue(d, schedules[d.index], now, level)]
        return next_wake(self._save(fired))

    def _enqueue(self, decision: Decision, schedule: dict[str, Any], now: datetime,
                 level: str) -> bool:
        """True when the slot's copy is in the queue (now or from before a crash)."""
        assert decision.fire is not None
        task = with_context(self.layout, schedule, decision.fire, now, level)
        try:
            self.queue.enqueue([task], now)
        except DuplicateIds:
            logger.info("schedule {}: copy {} was already enqueued", decision.schedule_id,
                        decision.fire["id"])
            return True
        except QueueFull:
            return False  # the queue filled up since planning: try again next tick
        logger.bind(task=decision.fire["id"]).info("schedule {} fired", decision.schedule_id)
        self.events.emit(EventKind.SCHEDULE_FIRED, scheduleId=decision.schedule_id,
                         taskId=decision.fire["id"])
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
    def matches(index: int) -> bool:
        item = schedules[index] if 0 <= index < len(schedules) else None
        return isinstance(item, dict) and str(item.get("id") or "") == decision.schedule_id

    if matches(decision.index):
        return decision.index
    return next((i for i in range(len(schedules)) if matches(i)), None)

