"""The composition root: wires watchers, the runner's loop and signal handling.

The loop runs on its own thread and is the only one that touches state; the
main thread just waits for it and turns SIGINT/SIGTERM into a stop signal.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import threading
from datetime import date, datetime, timedelta

from loguru import logger

from pipeline.daemon import heartbeat, housekeeping, recovery
from pipeline.daemon.instance import AlreadyRunning, InstanceLock
from pipeline.daemon.loop import Runner
from pipeline.daemon.sources import Signal, Watcher
from pipeline.domain import clock
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.task import Outcome, valid_id
from pipeline.execution import procgroup
from pipeline.stages.run import attempt_marker
from pipeline.storage import jsonfile
from pipeline.storage.events import emit
from pipeline.storage.jsonfile import CorruptFile, read_lines, signature
from pipeline.storage.layout import Layout

EXIT_OK = 0
EXIT_ALREADY_RUNNING = 1


class Daemon:
    def __init__(self, layout: Layout, settings: Settings) -> None:
        self.layout = layout
        self.settings = settings
        self.signals: queue.Queue[Signal] = queue.Queue()
        self.runner = Runner(layout, settings, self.signals.put)
        self.instance_lock = InstanceLock(layout.tasks)
        self.next_heartbeat = clock.now()
        self.housekeeping_day: date | None = None
        self.beats = heartbeat.Heartbeat(layout, settings.poll_interval)

    def serve(self) -> int:
        self.layout.ensure()
        try:
            self.instance_lock.acquire()
        except AlreadyRunning:
            logger.error("another daemon already runs on {}", self.layout.root)
            return EXIT_ALREADY_RUNNING
        try:
            return self._serve_locked()
        finally:
            self.instance_lock.release()

    def _serve_locked(self) -> int:
        procgroup.become_subreaper()  # the agent's orphans stay ours to end (Linux)
        self._recover(clock.now())
        watcher = Watcher(self.layout, self.signals.put, self._is_own_write)
        watcher.start()
        loop = threading.Thread(target=self._loop, name="runner-loop")
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT,
                                                                           signal.SIGTERM)}
        try:
            loop.start()
            loop.join()
        finally:
            watcher.stop()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return EXIT_OK

    def _on_signal(self, signum: int, _frame: object) -> None:
        jsonfile.stop_waiting()  # a lock wait of the loop gives up: the stop comes first
        self.signals.put(Signal("stop", payload=signal.Signals(signum).name))

    def _is_own_write(self, path: str | None) -> bool:
        own = self.runner.queue.file
        return path == str(own.path) and own.written == signature(own.path)

    # ----- the loop --------------------------------------------------------------------
    def _loop(self) -> None:
        started = clock.now()
        self.runner.tick(started)
        self._heartbeat(started, first=True)
        emit(self.layout, "daemon_start", pid=os.getpid(), previous=self._previous_stop())
        logger.info("watching {} (pid {})", self.layout.root, os.getpid())
        reason = self._run_until_stopped(self.next_heartbeat)
        self._shut_down(reason)

    def _run_until_stopped(self, wake: datetime | None) -> str:
        while True:
            for item in self._wait(wake):
                if item.kind == "stop":
                    return str(item.payload)
                self._guarded(self.runner.note, item)
            now = clock.now()
            tick = self._guarded(self.runner.tick)
            wake = self._earliest(tick, self._heartbeat(now))

    def _guarded(self, step, *args):  # noqa: ANN001, ANN202
        """Run one step of the loop; an unexpected error (a full disk, a file that
        vanished) is logged and retried a second later - the daemon never dies of it.
        Nothing is lost meanwhile: every stage writes its destination before it
        removes its source."""
        try:
            return step(*args, clock.now())
        except Exception:  # noqa: BLE001
            logger.exception("unexpected error in {}; retrying in a second", step.__name__)
            return clock.now() + timedelta(seconds=1)

    def _wait(self, wake: datetime | None) -> list[Signal]:
        """Block until a signal arrives or `wake` passes; return every pending signal,
        a stop first."""
        timeout = None if wake is None else max(0.0, (wake - clock.now()).total_seconds())
        items: list[Signal] = []
        try:
            items.append(self.signals.get(timeout=timeout))
        except queue.Empty:
            return items
        while True:
            try:
                items.append(self.signals.get_nowait())
            except queue.Empty:
                break
        return sorted(items, key=lambda item: item.kind != "stop")

    @staticmethod
    def _earliest(*moments: datetime | None) -> datetime | None:
        return min((m for m in moments if m), default=None)

    def _heartbeat(self, now: datetime, first: bool = False) -> datetime:
        """The first beat; later ones come from the heartbeat thread. Here: the chores
        of each heartbeat interval."""
        if first or now >= self.next_heartbeat:
            if first:
                heartbeat.beat(self.layout, self.runner.queue.state, now, first=True)
                self.beats.start()
            self.next_heartbeat = now + timedelta(seconds=self.settings.poll_interval)
            self.instance_lock.recheck()
            self._housekeeping(now)
        return self.next_heartbeat

    def _housekeeping(self, now: datetime) -> None:
        local = now.astimezone()
        if self.housekeeping_day != local.date() and \
                local.time() >= self.settings.daily_report_at:
            self.housekeeping_day = local.date()
            housekeeping.daily(self.layout, self.settings, now)

    def _previous_stop(self) -> str:
        events = read_lines(self.layout.events)
        starts_and_stops = [e for e in events[:-1] if e.get("event") in {"daemon_start",
                                                                         "daemon_stop"}]
        if not starts_and_stops or starts_and_stops[-1].get("event") == "daemon_stop":
            return "clean"
        return "crash"

    # ----- start-up and shut-down ------------------------------------------------------
    def _recover(self, now: datetime) -> None:
        recovery.remove_stale_temp_files(self.layout)
        try:
            entry = self.runner.running_file.load()
        except CorruptFile as error:
            entry = self._recover_damaged(error, now)
        if not entry.get("id"):
            return
        self._recover_entry(entry, now)

    def _recover_damaged(self, error: CorruptFile, now: datetime) -> dict:
        """A damaged running.json is kept under another name - never overwritten - and
        what can still be read of it is recovered like an intact entry."""
        raw = error.path.read_bytes()
        aside = recovery.set_aside(error.path, now)
        salvaged = recovery.salvage(raw)
        logger.error("running.json cannot be parsed ({}); kept as {}; recovering task {}",
                     error.reason, aside.name, salvaged.get("id", "(no id readable)"))
        if not valid_id(salvaged.get("id")):
            return {}
        attempt = salvaged.get("attempt")
        salvaged["attempt"] = attempt if isinstance(attempt, int) and attempt > 0 else 1
        if isinstance(salvaged.get("prompt"), str):
            return salvaged
        try:
            self._archive_unrecoverable(salvaged, aside.name, now)
        except (CorruptFile, OSError) as problem:
            logger.error("cannot archive {} now: {}", salvaged["id"], problem)
        return {}

    def _archive_unrecoverable(self, salvaged: dict, aside: str, now: datetime) -> None:
        """Only the id is readable: the task cannot run again; it gets a failed record."""
        runner, task_id = self.runner, salvaged["id"]
        recovery.end_marked(salvaged, self.settings.kill_grace)
        queued = task_id in {t.get("id") for t in runner.queue.tasks() if isinstance(t, dict)}
        if queued or runner.archive.holds_run(task_id, salvaged.get("startedAt"), now):
            return
        runner.archive.record_end(
            {"id": task_id, "startedAt": salvaged.get("startedAt")}, Outcome.ERROR, now,
            f"running.json was damaged (kept as {aside}); the task could not be recovered",
            attempts=salvaged["attempt"])

    def _recover_entry(self, entry: dict, now: datetime) -> None:
        runner = self.runner
        task_id = entry["id"]
        output = None
        group_ended = recovery.end_leftover_group(entry, self.settings.kill_grace)
        if recovery.end_marked(entry, self.settings.kill_grace) or group_ended:
            logger.bind(task=task_id).warning("ended the agent left running by a crash")
        elif entry.get("attempt") and entry.get("startedAt"):
            output = recovery.output_of_attempt(self.layout.task_log(task_id),
                                                attempt_marker(entry))
        try:
            queued = any(t.get("id") == task_id for t in runner.queue.tasks()
                         if isinstance(t, dict))
        except CorruptFile:
            logger.error("queue.json cannot be parsed; {} stays in running.json", task_id)
            return
        finished = recovery.finished_verdict(output, now, self.settings)
        decision = recovery.disposition(
            runner.archive.holds_run(task_id, entry.get("startedAt"), now), queued,
            recovery.cancel_requested(self.layout, task_id), finished is not None)
        logger.bind(task=task_id).warning("found in running.json at start: {}", decision)
        runner.recover(entry, decision, finished, now)

    def _shut_down(self, reason: str) -> None:
        logger.info("stopping ({})", reason)
        self.runner.begin_stop()
        deadline = clock.now() + timedelta(seconds=self.settings.kill_grace + 3)
        while self.runner.busy and clock.now() < deadline:
            with contextlib.suppress(queue.Empty):
                self._guarded(self.runner.note, self.signals.get(timeout=0.1))
            self._guarded(self.runner.tick)
        self.beats.stop()
        self.runner.queue.state.update(pid=None, stoppedAt=iso(clock.now()))
        emit(self.layout, "daemon_stop", pid=os.getpid(), reason=reason, maxRssMb=_max_rss_mb())
        logger.info("stopped")


def _max_rss_mb() -> float | None:
    """Peak memory, so a stop by PM2's max_memory_restart can be told from others."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
