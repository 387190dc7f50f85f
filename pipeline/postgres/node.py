"""`claude-runner node --account NAME [--slots N]`: a worker of the postgres backend.

One loop thread owns the slots and the main connection: it claims jobs while slots are free
and the account is not paused, starts each agent exactly as the files backend does (process
group, timeout, judge), and settles every end through the fenced transaction of
`leases.settle`. Its local state (one file per running slot, the agents' logs) lives in
`<root>/nodes/<name>/`; the crash recovery of that state runs before the first claim.
SIGINT/SIGTERM end the agents, requeue their tasks uncounted and exit within `kill_grace + 5`
s; procrastinate's worker, which waits for its jobs however long they take, is not used.
"""

from __future__ import annotations

import dataclasses
import queue
import signal
import socket
import time
from datetime import datetime, timedelta
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.agent.preflight import preflight
from pipeline.agent.presets import PROMPT_PREVIEW, build_env, one_line, speaks_claude_json
from pipeline.agent.verdict import Verdict, judge, looks_interrupted
from pipeline.daemon.sources import Signal, SignalKind, drain
from pipeline.domain import clock
from pipeline.domain.attempt import AttemptEnd, StopReason
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.execution import procgroup
from pipeline.execution.agent_process import AgentProcess
from pipeline.log import logger
from pipeline.postgres import db
from pipeline.postgres.background import Listener, Renewer
from pipeline.postgres.leases import AttemptReport, Claim, claim, paused_until, settle
from pipeline.postgres.link import NodeLink
from pipeline.postgres.slots import SELF_FENCED, Slot, SlotFiles, recovered_verdict
from pipeline.stages import run
from pipeline.storage.layout import Layout

EXIT_OK, EXIT_ALREADY_RUNNING = 0, 1
LOG_SHIPPED = 200_000     # characters of an attempt's output sent to the head
INTERRUPT_SETTLE = 1.0    # as in the daemon: wait for our own stop signal first

class Node:
    def __init__(self, root: Path, settings: Settings, account: str, slots: int = 1,
                 name: str | None = None) -> None:
        self.root = root
        self.settings = settings
        self.account = account
        self.capacity = slots
        self.name = name or f"{socket.gethostname()}-{account}"
        self.home = Layout(root / "nodes" / self.name)
        self.files = SlotFiles(self.home.tasks / "slots")
        accounts = dict(settings.backend_accounts)
        self.env = {**build_env(settings, root=root), **dict(accounts.get(account, ())),
                    "CLAUDE_RUNNER_ACCOUNT": account}
        self.signals: queue.Queue[Signal] = queue.Queue()
        self.slots: dict[int, Slot] = {}
        self.link = NodeLink(settings.backend_dsn, self.name)
        self.stopping = False
        self.pause_seen: datetime | None = None
        self.dsn = settings.backend_dsn

    # ----- life ----------------------------------------------------------------------
    def serve(self) -> int:
        self.home.ensure()
        lock = FileLock(str(self.home.root / "node.lock"), timeout=0)
        try:
            lock.acquire()
        except Timeout:
            logger.error("node {} already runs on {}", self.name, self.root)
            return EXIT_ALREADY_RUNNING
        previous = {sig: signal.signal(sig, self._on_signal)
                    for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            return self._serve()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            lock.release()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.signals.put(Signal(SignalKind.STOP, payload=signal.Signals(signum).name))

    def _serve(self) -> int:
        if not self._wait_for_database() or not self._recover():
            return EXIT_OK
        renewer = Renewer(self.dsn, self.name, self.settings.backend_lease_seconds,
                          self.settings.backend_renew_every, self._tokens,
                          lambda kind, token: self.signals.put(Signal(kind, payload=token)))
        listener = Listener(self.dsn, [db.CHANNEL, f"procrastinate_queue_v1#{db.QUEUE}"],
                            lambda: self.signals.put(Signal(SignalKind.WAKE)))
        renewer.start()
        listener.start()
        logger.info("node {} (account {}, {} slot(s)) serving {}", self.name, self.account,
                    self.capacity, self.root)
        reason = self._loop()
        self._shut_down(reason)
        renewer.stop()
        listener.stop()
        self.link.mark_stopped()
        return EXIT_OK

    def _wait_for_database(self) -> bool:
        said = None
        while (reason := self.link.ready(self.account, self.capacity)) is not None:
            if reason != said:
                logger.warning("waiting for the database: {}", reason)
                said = reason
            if any(item.kind == SignalKind.STOP for item in self._wait(1.0)):
                return False
        return True

    def _tokens(self) -> list[str]:
        return [slot.claim.token for slot in self.slots.copy().values()]  # another thread

    # ----- recovery --------------------------------------------------------------------
    def _recover(self) -> bool:
        """Attempts a crash left behind: end their groups, settle them (fenced).
        False when a stop arrived while the database was unreachable."""
        for index, saved in self.files.leftovers():
            verdict = recovered_verdict(saved, self.home, self.settings, clock.now())
            task_id = saved.entry.id
            logger.bind(task=task_id).warning("found in slot {} at start: {}", index,
                                              verdict.outcome)
            while not self._settle_once(saved.token, verdict, None, task_id):
                if any(item.kind == SignalKind.STOP for item in self._wait(1.0)):
                    return False
            self.files.clear(index)
        return True

    # ----- the loop ----------------------------------------------------------------------
    def _loop(self) -> str:
        wake = clock.now()
        while True:
            for item in self._wait(max(0.0, (wake - clock.now()).total_seconds())):
                if item.kind == SignalKind.STOP:
                    return str(item.payload)
                self._guarded(self._note, item)
            wake = self._guarded(self._tick) or clock.now() + timedelta(seconds=1)

    def _guarded(self, step, *args):  # noqa: ANN001, ANN202
        """As in the daemon: an unexpected error (a full disk) is logged and the step
        is tried again a second later; the node never dies of it."""
        try:
            return step(*args, clock.now())
        except Exception:  # noqa: BLE001
            logger.exception("unexpected error in {}; retrying in a second", step.__name__)
            return None

    def _wait(self, timeout: float) -> list[Signal]:
        return drain(self.signals, timeout)

    def _note(self, item: Signal, now: datetime) -> None:
        if item.kind == SignalKind.FINISHED:
            index, end = item.payload
            self._ended(self.slots[index], end, now)
            return
        slot = next((s for s in self.slots.values() if s.claim.token == item.payload), None)
        if slot is None or slot.execution is None or slot.end is not None:
            return
        log = logger.bind(task=slot.claim.entry.id)
        if item.kind == SignalKind.CANCEL:
            log.info("cancel requested: ending its process group")
            slot.execution.stop(StopReason.CANCEL)
        elif item.kind in (SignalKind.LOST, SignalKind.FENCE):
            why = "taken back by the reaper" if item.kind == SignalKind.LOST else "not renewable"
            log.warning("lease {}: ending the agent (fenced)", why)
            slot.execution.stop(StopReason.FENCED)

    def _ended(self, slot: Slot, end: AttemptEnd, now: datetime) -> None:
        slot.end = end
        if end.stop_reason == StopReason.FENCED:
            slot.verdict = SELF_FENCED
        elif self.stopping and end.stop_reason is None:
            slot.end = dataclasses.replace(end, stop_reason=StopReason.SHUTDOWN)
        elif end.stop_reason is None and looks_interrupted(end, speaks_claude_json(self.settings)):
            slot.judge_at = now + timedelta(seconds=INTERRUPT_SETTLE)

    def _tick(self, now: datetime) -> datetime:
        wakes = [now + timedelta(seconds=min(self.settings.poll_interval, 2.0))]
        for slot in list(self.slots.values()):
            wakes.append(self._settle_slot(slot, now))
        if not self.stopping:
            wakes.append(self._fill(now))
        return min(w for w in wakes if w)

    # ----- claim and start ---------------------------------------------------------------
    def _fill(self, now: datetime) -> datetime | None:
        free = [i for i in range(self.capacity) if i not in self.slots]
        try:
            until = paused_until(self.link.conn(), self.account)
            self._note_pause(until)
            while free and not until:
                claimed = claim(self.link.conn(), self.name, self.account,
                                self.settings.backend_lease_seconds, now)
                if claimed is None:
                    break
                self._start(free.pop(0), claimed, now)
        except Exception as error:  # noqa: BLE001 - database trouble: try again soon
            self.link.drop()
            logger.warning("cannot claim work now: {}", str(error).strip()[:200])
            return now + timedelta(seconds=1)
        return until

    def _note_pause(self, until: datetime | None) -> None:
        if until != self.pause_seen:
            if until:
                logger.warning("account {} paused until {}", self.account, until.isoformat())
            elif self.pause_seen:
                logger.info("account {}: pause over", self.account)
            self.pause_seen = until

    def _start(self, index: int, claimed: Claim, now: datetime) -> None:
        slot = Slot(index, claimed)
        self.slots[index] = slot
        try:
            problem = self._launch(slot)
        except Exception as error:  # noqa: BLE001 - a failed attempt, never a stuck slot
            problem = f"cannot start the agent: {error}"
            slot.verdict = Verdict(Outcome.ERROR, problem, retryable=True)
        if problem:
            slot.end = AttemptEnd(None, False, None, "", spawn_error=problem)
            slot.verdict = slot.verdict or Verdict(Outcome.ERROR, problem)

    def _launch(self, slot: Slot) -> str | None:
        """Start the agent of a claimed slot; a reason it cannot run at all, or None."""
        claimed, entry = slot.claim, slot.claim.entry
        self.files.save(slot.index, claimed)
        launch = run.launch_for(entry, self.home, self.settings, self.env)
        launch = dataclasses.replace(launch, cwd=Path(entry.task.workspace or self.root))
        slot.header = launch.header
        if not launch.cwd.is_dir():
            return f"workspace {launch.cwd} does not exist on node {self.name}"
        problem = preflight(entry.task, self.settings, self.env)
        if problem:
            return problem
        execution = AgentProcess(launch, on_end=lambda end: self.signals.put(
            Signal(SignalKind.FINISHED, payload=(slot.index, end))))
        pid = execution.start()
        slot.execution = execution
        try:
            self.files.save(slot.index, claimed, pid=pid,
                            pid_start_ticks=procgroup.start_ticks(pid))
        except OSError as error:  # the agent runs; only a crash recovery would miss its pid
            logger.bind(task=entry.id).error("cannot note the agent's pid: {}", error)
        logger.bind(task=entry.id).info("started attempt {} (pid {}) - {}", entry.number,
                                        pid, one_line(entry.task.prompt, PROMPT_PREVIEW))
        return None

    # ----- settle ------------------------------------------------------------------------
    def _settle_slot(self, slot: Slot, now: datetime) -> datetime | None:
        if slot.end is None:
            return None
        if slot.verdict is None:
            if slot.judge_at and now < slot.judge_at and not self.stopping:
                return slot.judge_at
            end = slot.end
            if self.stopping and slot.judge_at:
                end = dataclasses.replace(end, stop_reason=StopReason.SHUTDOWN)
            slot.verdict = judge(end, now, self.settings.fail_on_permission_denials,
                                 speaks_claude_json(self.settings))
        where = f"      (on node {self.name}, account {self.account})\n"
        log = (slot.header + where + slot.end.output)[-LOG_SHIPPED:]
        if not self._settle_once(slot.claim.token, slot.verdict, log, slot.claim.entry.id):
            return now + timedelta(seconds=1)
        self.files.clear(slot.index)
        del self.slots[slot.index]
        return now

    def _settle_once(self, token: str, verdict: Verdict, log: str | None, task_id: str) -> bool:
        try:
            result = settle(self.link.conn(), token, verdict, self.settings, clock.now(),
                            AttemptReport(log))
        except Exception as error:  # noqa: BLE001 - kept; tried again in a second
            self.link.drop()
            logger.bind(task=task_id).warning("cannot record the end yet ({}); will retry",
                                              str(error).strip()[:200])
            return False
        logger.bind(task=task_id).info("{}: {}", verdict.outcome, result)
        return True

    # ----- stop --------------------------------------------------------------------------
    def _shut_down(self, reason: str) -> None:
        logger.info("stopping ({})", reason)
        self.stopping = True
        for slot in self.slots.values():
            if slot.execution and slot.end is None:
                self.files.mark_stopping(slot.index)
                slot.execution.stop(StopReason.SHUTDOWN)
        deadline = time.monotonic() + self.settings.kill_grace + 3
        while self.slots and time.monotonic() < deadline:
            for item in self._wait(0.1):
                if item.kind != SignalKind.STOP:
                    self._note(item, clock.now())
            self._tick(clock.now())
        logger.info("stopped")
