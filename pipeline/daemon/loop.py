"""The loop thread's state machine: admit, start, finish, cancel.

Everything here runs on one thread (the daemon's loop), which owns the single
slot. `tick(now)` does whatever is due and says when it next needs to run.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.agent.preflight import preflight
from pipeline.agent.presets import PROMPT_PREVIEW, build_env, one_line, speaks_claude_json
from pipeline.agent.verdict import Verdict, judge, looks_interrupted
from pipeline.daemon.cancels import CancelRequests
from pipeline.daemon.intake import Intake
from pipeline.daemon.recovery import Disposition
from pipeline.daemon.sources import Signal, SignalKind
from pipeline.domain import order
from pipeline.domain.attempt import Attempt, AttemptEnd, StopReason
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.execution import cli_features, executable, procgroup
from pipeline.execution.agent_process import AgentProcess
from pipeline.log import logger
from pipeline.stages import cancel, review, run
from pipeline.stages.budget import BudgetGate
from pipeline.stages.settle import Settler
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, JsonFile, signature
from pipeline.storage.layout import Layout

INTERRUPT_SETTLE = 1.0  # seconds to wait for our own stop signal after an agent died oddly


ProcessFactory = Callable[..., AgentProcess]  # (launch, on_end=, on_progress=) -> AgentProcess


@dataclass
class Slot:
    """The attempt in the single slot, from the running.json write that names it until its
    end is recorded and running.json cleared."""
    entry: Attempt
    process: AgentProcess | None = None  # None: not started (preflight, a recovered entry)
    deferred_end: tuple[AttemptEnd, datetime] | None = None  # an odd end, judged a bit later
    verdict: Verdict | None = None  # its end, decided; recorded once settled and cleared
    settled: bool = False  # the queue or archive holds the end; running.json not yet cleared

class Loop(Intake):
    """The single slot's state machine on top of the intake: start, finish, cancel."""

    def __init__(self, layout: Layout, settings: Settings, post: Callable[[Signal], None],
                 execution_factory: ProcessFactory = AgentProcess, *, events: EventLog):
        super().__init__(layout, settings, events)
        self.post = post
        self.execution_factory = execution_factory  # tests pass a fake slot
        self.settler = Settler(layout, settings, self.queue, self.archive, events)
        self.budget_gate = BudgetGate(layout, settings, events)
        self.running_file = JsonFile(layout.running)
        self.env = build_env(settings, root=layout.root)
        self.slot: Slot | None = None
        self.stopping = False
        self.agent_problem: str | None = "unknown"
        self.cancels = CancelRequests(layout, self.queue, self.archive, self.repeats)
        self.ticked_at: datetime | None = None  # the end of the last tick that completed
        self.features = cli_features.Features(settings, self.env)

    # ----- signals -------------------------------------------------------------------
    def note(self, signal: Signal, now: datetime) -> None:
        if signal.kind == SignalKind.INBOX and signal.path:
            if signal.closed:
                self.closed_inbox.add(signal.path)
            else:
                self.closed_inbox.discard(signal.path)
        elif signal.kind == SignalKind.FINISHED:
            self._on_end(signal.payload, now)
        elif signal.kind == SignalKind.PROGRESS and self.slot and self.slot.process:
            progress = signal.payload
            self.slot.entry = dataclasses.replace(self.slot.entry, last_activity_at=progress.at,
                                                  num_turns=progress.turns)
            self.running_file.save(self.slot.entry.to_dict())

    def _on_end(self, end: AttemptEnd, now: datetime) -> None:
        """An agent that died by a signal or exited 0 silently may be PM2 stopping us:
        wait a moment for our own stop signal before judging the attempt."""
        if self.stopping and end.stop_reason is None:
            end = dataclasses.replace(end, stop_reason=StopReason.SHUTDOWN)
        assert self.slot is not None
        if end.stop_reason is None and looks_interrupted(end, speaks_claude_json(self.settings)):
            self.slot.deferred_end = (end, now + timedelta(seconds=INTERRUPT_SETTLE))
            return
        self._finish_attempt(end, now)

    def _finish_attempt(self, end: AttemptEnd, now: datetime) -> None:
        assert self.slot is not None
        self.slot.deferred_end = None
        verdict = judge(end, now, self.settings.fail_on_permission_denials,
                        speaks_claude_json(self.settings))
        self._complete(review.review(self.slot.entry, end, verdict), now)

    # ----- the tick ------------------------------------------------------------------
    def tick(self, now: datetime) -> datetime | None:
        """Do what is due; return when to run again (None: only on a signal)."""
        wakes: list[datetime | None] = [self._settle_deferred(now)]
        if self.slot and self.slot.verdict:
            self._complete(self.slot.verdict, now)
        self._handle_cancels(now)
        if self._readable_queue() is not None:
            wakes.append(self._admit_inbox(now))
        entries = self._readable_queue()  # read again: what was just admitted counts
        if entries is not None:
            queued = self._sweep(entries, now)
            self._track_level(len(queued))
            wakes.append(self._schedule(queued, now))
            # fresh copies are validated before they can start (unchanged entries: not again)
            queued = self._sweep(self._readable_queue() or [], now)
            wakes += self._maybe_start(queued, now)
        if self.slot and self.slot.verdict:
            wakes.append(now + timedelta(seconds=1))  # its end could not be recorded yet
        self.ticked_at = now
        return min((w for w in wakes if w), default=None)

    def _settle_deferred(self, now: datetime) -> datetime | None:
        if not self.slot or not self.slot.deferred_end:
            return None
        end, deadline = self.slot.deferred_end
        if self.stopping:
            self._finish_attempt(dataclasses.replace(end, stop_reason=StopReason.SHUTDOWN), now)
        elif now >= deadline:
            self._finish_attempt(end, now)
        else:
            return deadline
        return None

    # ----- start ---------------------------------------------------------------------
    def _maybe_start(self, queued: list[Task], now: datetime) -> list[datetime | None]:
        if self.slot or self.stopping:
            return []
        paused = self._pause_end(now)
        if paused:
            return [paused]
        allowed, budget_until = self.budget_gate.startable(queued, now)
        task = order.pick(allowed, now)
        if task:
            try:
                self._start(task, now)
            except (CorruptFile, OSError):
                raise  # storage trouble: retried in a second, nothing is lost
            except Exception as error:  # noqa: BLE001 - this task, not the runner, is broken
                self.settler.park(task, error, now)
                self.running_file.save({})
        return [order.next_ready_time(allowed, now), budget_until]

    def _pause_end(self, now: datetime) -> datetime | None:
        until = self.queue.state.paused_until()
        if until and until > now:
            return until
        if until:
            self.queue.state.set_pause(None, None)
            logger.info("pause over: runs resume")
            self.events.emit(EventKind.PAUSE_END, until=until.isoformat())
        return None

    def _start(self, task: Task, now: datetime) -> None:
        entry = run.entry_for(task, now, self.settings)
        # rule 2: running.json names it before the queue loses it
        self.running_file.save(entry.to_dict())
        if self.queue.remove(task.id, now) is None:
            self.running_file.save({})
            return
        self.slot = slot = Slot(entry)
        log = logger.bind(task=entry.id)
        problem = preflight(entry.task, self.settings, self.env)
        if problem:
            self._complete(Verdict(Outcome.ERROR, problem), now)
            return
        try:
            execution = self.execution_factory(
                run.launch_for(entry, self.layout, self.settings, self.env,
                               self.features.get()),
                on_end=lambda end: self.post(Signal(SignalKind.FINISHED, payload=end)),
                on_progress=lambda p: self.post(Signal(SignalKind.PROGRESS, payload=p)))
            pid = execution.start()
        except Exception as error:  # noqa: BLE001 - any spawn error is a failed attempt
            program = executable.program(self.settings)
            self._complete(executable.start_failure(error, program), now)
            self.note_agent(executable.not_found(program)
                            if isinstance(error, FileNotFoundError) else None)
            return
        self.note_agent(None)
        slot.process = execution
        entry = dataclasses.replace(run.git_baseline(entry, execution.git_before), pid=pid,
                                    pid_start_ticks=procgroup.start_ticks(pid))
        slot.entry = entry
        # not fsynced: after a power cut the attempt marker finds the agent without it
        self.running_file.save(entry.to_dict(), durable=False)
        log.info("started attempt {} (pid {}) - {}", entry.number, pid,
                 one_line(entry.task.prompt, PROMPT_PREVIEW))

    def note_agent(self, problem: str | None) -> None:
        """Keep `agentProblem` in state.json (shown by status) in step with what we saw."""
        if problem != self.agent_problem:
            self.agent_problem = problem
            if problem:
                logger.warning("{}", problem)
            self.queue.state.update(agentProblem=problem)

    # ----- finish --------------------------------------------------------------------
    def _complete(self, verdict: Verdict, now: datetime) -> None:
        """Requeue or archive the running task; kept pending if the write fails."""
        slot = self.slot
        assert slot is not None
        entry = slot.entry
        slot.verdict = verdict
        try:
            if not slot.settled:  # a retry after a failed clear does not settle twice
                self.settler.settle(entry, verdict, now)
                slot.settled = True
            # not fsynced: if a crash brings the entry back, the archive or the queue
            # already holds the task and recovery only clears it (ALREADY_DONE)
            self.running_file.save({}, durable=False)
        except (CorruptFile, OSError) as error:
            self.repeats.log("complete", f"cannot record the end of {entry.id} yet "
                             f"({error}); will retry", logger.bind(task=entry.id).error)
            return
        self.repeats.clear("complete")
        cancel.clear_request(self.layout, entry.id)
        self.slot = None

    # ----- cancel and stop -----------------------------------------------------------
    def _handle_cancels(self, now: datetime) -> None:
        slot = self.slot
        self.cancels.handle(slot.entry.id if slot else None, slot.process if slot else None,
                            now)

    def recover(self, entry: Attempt, decision: Disposition, finished: Verdict | None,
                now: datetime) -> None:
        """Settle the task a crashed run left in running.json (see recovery.py)."""
        if decision is Disposition.ALREADY_DONE:
            self.running_file.save({})
            return
        self.slot = Slot(entry)
        if decision is Disposition.FINISHED and finished:
            self._complete(finished, now)
        elif decision is Disposition.CANCELLED:
            self._complete(Verdict(Outcome.CANCELLED, "cancelled"), now)
        else:
            self._complete(Verdict(Outcome.INTERRUPTED, "interrupted: the runner stopped "
                                   "unexpectedly during the attempt", retryable=True), now)

    def begin_stop(self) -> None:
        self.stopping = True
        if self.slot and self.slot.process:
            self.slot.process.stop(StopReason.SHUTDOWN)

    def metrics(self) -> dict[str, Any]:
        """What `pm2 monit` shows beside CPU and memory."""
        return {"queue length": len(self.queue_seen[1]),
                "queue level": str(self.level) if self.level else "-",
                "running": self.entry.id if self.entry else "-",
                "paused": "yes" if self.queue.state.paused_until() else "no"}

    @property
    def entry(self) -> Attempt | None:
        """The running task's entry (running.json), if the slot holds one."""
        return self.slot.entry if self.slot else None

    @property
    def busy(self) -> bool:
        return self.slot is not None

    def wrote_last(self, path: str | None) -> bool:
        """Whether queue.json or state.json at `path` is as this loop last wrote it (its
        own write is no news to the watcher)."""
        for own in (self.queue.file, self.queue.state.file):
            if path == str(own.path):
                current = signature(own.path)  # None: gone, or no file - news either way
                return current is not None and own.written == current
        return False
