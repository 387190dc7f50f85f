"""The loop's intake: what a tick reads and admits before anything starts - queue.json (parsed
again only when it changed), inbox files, the sweep of agent-written entries, the backpressure
level and the schedules. `Loop` (loop.py) adds the slot; the postgres head reuses this."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.gate import Level
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, tasks_in
from pipeline.log import logger
from pipeline.log_once import Repeats
from pipeline.stages import admit, sweep
from pipeline.stages.archive import Archive
from pipeline.stages.schedule import Scheduler
from pipeline.stages.waiting import recovered
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, signature
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


class Intake:
    def __init__(self, layout: Layout, settings: Settings, events: EventLog) -> None:
        self.layout = layout
        self.settings = settings
        self.events = events
        self.queue = TaskQueue(layout, settings)
        self.archive = Archive(layout, settings, events)
        self.admitter = admit.Admitter(layout, settings, self.queue)
        self.scheduler = Scheduler(layout, self.queue, catch_up_grace=max(
            60.0, 3 * settings.poll_interval), events=events)
        self.repeats = Repeats()  # each lasting problem is logged once
        self.validated: sweep.Known = {}  # queue entries found valid, by id (sweep.py)
        self.closed_inbox: set[str] = set()
        self.queue_seen: tuple[Any, list[Any]] = (None, [])  # (signature, entries)
        self.swept: tuple[list[Any] | None, list[Task]] = (None, [])  # (entries, their tasks)
        self.level: Level | None = None

    @property
    def entry(self) -> Attempt | None:
        """The running task's entry: none here; Loop's slot holds one."""
        return None

    def _readable_queue(self) -> list[Any] | None:
        """queue.json's entries, parsed again only when the file changed (a tick looks
        at it before and after admitting and scheduling; usually one stat suffices)."""
        current = signature(self.layout.queue)
        if current is not None and current == self.queue_seen[0]:
            return self.queue_seen[1]
        try:
            tasks = self.queue.entries()
        except CorruptFile as error:
            self._report_damage(error)
            return None
        self.repeats.clear(str(self.layout.queue))
        self.queue_seen = (current, tasks)
        return tasks

    def _report_damage(self, error: CorruptFile) -> None:
        """Once per kind of damage, not per version (a writer truncating it again and again)."""
        self.repeats.log(str(error.path), f"{error.path.name} cannot be parsed ({error.reason});"
                         " left untouched, waiting for a fix", logger.error)

    # ----- admit ---------------------------------------------------------------------
    def _admit_inbox(self, now: datetime) -> datetime | None:
        wake = None
        for path in admit.inbox_files(self.layout):
            key = str(path)
            try:
                result = self.admitter.admit_file(path, now, closed=key in self.closed_inbox)
            except Exception as error:  # noqa: BLE001 - park the file, go on with the rest
                self.repeats.log(f"inbox:{key}", f"cannot handle inbox file "
                                 f"{admit.readable(path.name)}: {error!r}", logger.error)
                continue
            if result is admit.Admission.NOT_READY:
                wake = now + timedelta(seconds=admit.STABLE_SECONDS)
            elif result in (admit.Admission.ADMITTED, admit.Admission.REJECTED):
                self.closed_inbox.discard(key)
        return wake

    def _sweep(self, queued: list[Any], now: datetime) -> list[Task]:
        """The queued tasks, after moving invalid entries out (the same entries as last
        time - queue.json unchanged - are not looked at again)."""
        if queued is self.swept[0]:
            return self.swept[1]
        try:
            swept = sweep.sweep_queue(queued, self.queue, self.archive, self.settings, now,
                                      self.validated)
        except Exception as error:  # noqa: BLE001 - a bad entry must not stop the tick
            self.repeats.log("sweep", f"cannot clean queue.json: {error!r}", logger.error)
            return tasks_in(queued)
        self.repeats.clear("sweep")
        self.swept = (queued, swept)
        return swept

    def _track_level(self, length: int) -> None:
        current = self.queue.level(length, full=self.queue.sync_gate(length))
        if current != self.level:
            if self.level is not None:
                logger.info("queue level {} -> {} ({} queued)", self.level, current, length)
            self.events.emit(EventKind.LEVEL, length=length, **{"from": self.level, "to": current})
            if self.level is Level.FULL:
                recovered(self.layout, self.queue.state, length, self.events)
            self.level = current

    def _schedule(self, queued: list[Task], now: datetime) -> datetime | None:
        try:
            wake = self.scheduler.tick(now, queued, self.entry, self.level is Level.FULL)
        except CorruptFile as error:
            self._report_damage(error)
            return None
        except OSError as error:
            logger.error("cannot update scheduled.json: {}", error)
            return None
        self.repeats.clear(str(self.layout.scheduled))
        return wake
