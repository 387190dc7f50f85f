"""The loop thread's state machine: admit, start, finish, cancel.

Everything here runs on one thread (the daemon's loop), which owns the single
slot. `tick(now)` does whatever is due and says when it next needs to run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from loguru import logger

from pipeline.agent.presets import build_env, speaks_claude_json
from pipeline.agent.verdict import Verdict, judge, looks_interrupted
from pipeline.daemon.recovery import Disposition
from pipeline.daemon.sources import Signal
from pipeline.domain import order
from pipeline.domain.attempt import AttemptEnd
from pipeline.domain.gate import Level, level
from pipeline.domain.settings import Settings
from pipeline.domain.task import Outcome, valid_id
from pipeline.execution import procgroup
from pipeline.execution.slot import Execution
from pipeline.log import preview
from pipeline.stages import admit, cancel, run
from pipeline.stages.archive import Archive
from pipeline.stages.finish import Settler
from pipeline.stages.schedule import Scheduler
from pipeline.storage.events import emit
from pipeline.storage.jsonfile import CorruptFile, JsonFile, signature
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

INTERRUPT_SETTLE = 1.0  # seconds to wait for our own stop signal after an agent died oddly


class Runner:
    def __init__(self, layout: Layout, settings: Settings, post: Callable[[Signal], None]):
        self.layout = layout
        self.settings = settings
        self.post = post
        self.queue = TaskQueue(layout, settings)
        self.archive = Archive(layout, settings)
        self.admitter = admit.Admitter(layout, settings, self.queue)
        self.settler = Settler(layout, settings, self.queue, self.archive)
        self.scheduler = Scheduler(layout, self.queue, catch_up_grace=max(
            60.0, 3 * settings.poll_interval))
        self.running_file = JsonFile(layout.running)
        self.env = build_env(settings)
        self.execution: Execution | None = None
        self.entry: dict[str, Any] | None = None
        self.unfinished: Verdict | None = None  # the running task's end, not yet recorded
        self.deferred_end: tuple[AttemptEnd, datetime] | None = None
        self.settled = False  # the running task's end is recorded; running.json not cleared
        self.validated: dict[str, Any] = {}  # queue entries found valid, by id (admit.py)
        self.closed_inbox: set[str] = set()
        self.reported_damage: dict[Path, Any] = {}
        self.queue_seen: tuple[Any, list[Any]] = (None, [])  # (signature, entries)
        self.level: Level | None = None
        self.stopping = False

    # ----- signals -------------------------------------------------------------------
    def note(self, signal: Signal, now: datetime) -> None:
        if signal.kind == "inbox" and signal.path:
            if signal.closed:
                self.closed_inbox.add(signal.path)
            else:
                self.closed_inbox.discard(signal.path)
        elif signal.kind == "finished":
            self._on_end(signal.payload, now)
        elif signal.kind == "progress" and self.entry and self.execution:
            self.entry.update(signal.payload)
            self.running_file.save(self.entry)

    def _on_end(self, end: AttemptEnd, now: datetime) -> None:
        """An agent that died by a signal or exited 0 silently may be PM2 stopping us:
        wait a moment for our own stop signal before judging the attempt."""
        if self.stopping and end.stop_reason is None:
            end = dataclasses.replace(end, stop_reason="shutdown")
        if end.stop_reason is None and looks_interrupted(end, speaks_claude_json(self.settings)):
            self.deferred_end = (end, now + timedelta(seconds=INTERRUPT_SETTLE))
            return
        self._finish_attempt(end, now)

    def _finish_attempt(self, end: AttemptEnd, now: datetime) -> None:
        self.deferred_end = None
        verdict = judge(end, now, self.settings.fail_on_permission_denials,
                        speaks_claude_json(self.settings))
        self._complete(verdict, now)

    # ----- the tick ------------------------------------------------------------------
    def tick(self, now: datetime) -> datetime | None:
        """Do what is due; return when to run again (None: only on a signal)."""
        wakes: list[datetime | None] = [self._settle_deferred(now)]
        if self.unfinished:
            self._complete(self.unfinished, now)
        self._handle_cancels(now)
        if self._readable_queue() is not None:
            wakes.append(self._admit_inbox(now))
        queued = self._readable_queue()  # read again: what was just admitted counts
        if queued is not None:
            queued = self._sweep(queued, now)
            self._track_level(len(queued))
            wakes.append(self._schedule(queued, now))
            queued = self._readable_queue() or []
            wakes += self._maybe_start(queued, now)
        if self.unfinished:
            wakes.append(now + timedelta(seconds=1))
        return min((w for w in wakes if w), default=None)

    def _settle_deferred(self, now: datetime) -> datetime | None:
        if not self.deferred_end:
            return None
        end, deadline = self.deferred_end
        if self.stopping:
            self._finish_attempt(dataclasses.replace(end, stop_reason="shutdown"), now)
        elif now >= deadline:
            self._finish_attempt(end, now)
        else:
            return deadline
        return None

    def _readable_queue(self) -> list[Any] | None:
        """queue.json's entries, parsed again only when the file changed (a tick looks
        at it before and after admitting and scheduling; usually one stat suffices)."""
        current = signature(self.layout.queue)
        if current is not None and current == self.queue_seen[0]:
            return self.queue_seen[1]
        try:
            tasks = self.queue.tasks()
        except CorruptFile as error:
            self._report_damage(error)
            return None
        self.reported_damage.pop(self.layout.queue, None)
        self.queue_seen = (current, tasks)
        return tasks

    def _report_damage(self, error: CorruptFile) -> None:
        current = signature(error.path)
        if self.reported_damage.get(error.path) != current:
            self.reported_damage[error.path] = current
            logger.error("{} cannot be parsed ({}); left untouched, waiting for a fix",
                         error.path.name, error.reason)

    # ----- admit ---------------------------------------------------------------------
    def _admit_inbox(self, now: datetime) -> datetime | None:
        wake = None
        for path in admit.inbox_files(self.layout):
            key = str(path)
            result = self.admitter.admit_file(path, now, closed=key in self.closed_inbox)
            if result is admit.Admission.NOT_READY:
                wake = now + timedelta(seconds=admit.STABLE_SECONDS)
            elif result in (admit.Admission.ADMITTED, admit.Admission.REJECTED):
                self.closed_inbox.discard(key)
        return wake

    def _sweep(self, queued: list[Any], now: datetime) -> list[Any]:
        try:
            return admit.sweep_queue(queued, self.queue, self.archive, self.settings, now,
                                     self.validated)
        except (CorruptFile, OSError) as error:
            logger.error("cannot clean queue.json: {}", error)
            return queued

    def _track_level(self, length: int) -> None:
        full = self.queue.sync_gate(length)
        s = self.settings
        current = level(length, full, s.high_watermark, s.low_watermark)
        if current != self.level:
            if self.level is not None:
                logger.info("queue level {} -> {} ({} queued)", self.level, current, length)
            emit(self.layout, "level", length=length, **{"from": self.level, "to": current})
            self.level = current

    def _schedule(self, queued: list[Any], now: datetime) -> datetime | None:
        try:
            wake = self.scheduler.tick(now, queued, self.entry, self.level is Level.FULL)
        except CorruptFile as error:
            self._report_damage(error)
            return None
        except OSError as error:
            logger.error("cannot update scheduled.json: {}", error)
            return None
        self.reported_damage.pop(self.layout.scheduled, None)
        return wake

    # ----- start ---------------------------------------------------------------------
    def _maybe_start(self, queued: list[Any], now: datetime) -> list[datetime | None]:
        if self.execution or self.unfinished or self.deferred_end or self.stopping:
            return []
        paused = self._pause_end(now)
        if paused:
            return [paused]
        task = order.pick(queued, now)
        if task:
            self._start(task, now)
        return [order.next_ready_time(queued, now)]

    def _pause_end(self, now: datetime) -> datetime | None:
        until = self.queue.state.paused_until()
        if until and until > now:
            return until
        if until:
            self.queue.state.set_pause(None, None)
            logger.info("pause over: runs resume")
            emit(self.layout, "pause_end", until=until.isoformat())
        return None

    def _start(self, task: dict[str, Any], now: datetime) -> None:
        entry = run.running_entry(task, now)
        self.running_file.save(entry)  # rule 2: running.json names it before the queue loses it
        if self.queue.remove(task["id"]) is None:
            self.running_file.save({})
            return
        self.entry = entry
        log = logger.bind(task=entry["id"])
        problem = run.preflight(entry, self.settings, self.env)
        if problem:
            self._complete(Verdict(Outcome.ERROR, problem), now)
            return
        execution = Execution(run.launch_for(entry, self.layout, self.settings, self.env),
                              on_end=lambda end: self.post(Signal("finished", payload=end)),
                              on_progress=lambda p: self.post(Signal("progress", payload=p)))
        try:
            pid = execution.start()
        except OSError as error:
            self._complete(Verdict(Outcome.ERROR, f"cannot start the agent: {error}",
                                   retryable=True), now)
            return
        self.execution = execution
        entry.update(pid=pid, pidStartTicks=procgroup.start_ticks(pid))
        # not fsynced: after a power cut the attempt marker finds the agent without it
        self.running_file.save(entry, durable=False)
        log.info("started attempt {} (pid {}) - {}", entry["attempt"], pid,
                 preview(entry["prompt"]))

    # ----- finish --------------------------------------------------------------------
    def _complete(self, verdict: Verdict, now: datetime) -> None:
        """Requeue or archive the running task; kept pending if the write fails."""
        entry = self.entry
        assert entry is not None
        self.unfinished = verdict
        try:
            if not self.settled:  # a retry after a failed clear does not settle twice
                self.settler.settle(entry, verdict, now)
                self.settled = True
            # not fsynced: if a crash brings the entry back, the archive or the queue
            # already holds the task and recovery only clears it (ALREADY_DONE)
            self.running_file.save({}, durable=False)
        except (CorruptFile, OSError) as error:
            logger.bind(task=entry["id"]).error("cannot record the end yet ({}); will retry",
                                                error)
            return
        self.settled = False
        cancel.clear_request(self.layout, entry["id"])
        self.unfinished = None
        self.execution = None
        self.entry = None

    # ----- cancel and stop -----------------------------------------------------------
    def _handle_cancels(self, now: datetime) -> None:
        for request in cancel.pending_requests(self.layout):
            task_id = request.name
            if self.entry and self.entry["id"] == task_id:
                if self.execution and self.execution.stop_reason is None:
                    logger.bind(task=task_id).info("cancel requested: ending its process group")
                    self.execution.stop("cancel")
                continue
            if valid_id(task_id):
                self._cancel_queued(task_id, now)
            request.unlink(missing_ok=True)

    def _cancel_queued(self, task_id: str, now: datetime) -> None:
        try:
            cancel.cancel_queued(self.queue, self.archive, task_id, now)
        except (CorruptFile, OSError) as error:
            logger.error("cannot cancel {} now: {}", task_id, error)

    def recover(self, entry: dict[str, Any], decision: Disposition, finished: Verdict | None,
                now: datetime) -> None:
        """Settle the task a crashed run left in running.json (see recovery.py)."""
        if decision is Disposition.ALREADY_DONE:
            self.running_file.save({})
            return
        self.entry = entry
        if decision is Disposition.FINISHED and finished:
            self._complete(finished, now)
        elif decision is Disposition.CANCELLED:
            self._complete(Verdict(Outcome.CANCELLED, "cancelled"), now)
        else:
            self._complete(Verdict(Outcome.INTERRUPTED, "interrupted: the runner stopped "
                                   "unexpectedly during the attempt", retryable=True), now)

    def begin_stop(self) -> None:
        self.stopping = True
        if self.execution:
            self.execution.stop("shutdown")

    @property
    def busy(self) -> bool:
        return self.entry is not None
