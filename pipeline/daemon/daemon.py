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
from collections.abc import Callable
from datetime import date, datetime, timedelta

from pipeline.daemon import heartbeat, housekeeping
from pipeline.daemon.instance import AlreadyRunning, InstanceLock
from pipeline.daemon.loop import Loop
from pipeline.daemon.pm2_metrics import Pm2Metrics
from pipeline.daemon.reload import Reloader
from pipeline.daemon.schedule_health import LateWatch
from pipeline.daemon.sources import Signal, SignalKind, Watcher, drain
from pipeline.daemon.startup import recover_at_start
from pipeline.domain import clock
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.execution import executable, procgroup
from pipeline.log import logger
from pipeline.log_once import Repeats
from pipeline.notify.hub import NotifyHub
from pipeline.storage import jsonfile
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import read_lines
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile

EXIT_OK = 0
EXIT_ALREADY_RUNNING = 1
EXIT_LOOP_DIED = 3  # the loop thread ended without a stop: PM2 should restart us
# Python runs signal handlers on the main thread only, and a signal the kernel hands to another
# thread does not wake a main thread blocked in join(): it waits at most this long (seconds).
SIGNAL_CHECK = 0.2


class Daemon:
    def __init__(self, layout: Layout, settings: Settings,
                 reload: Callable[[], Settings] | None = None) -> None:
        self.layout = layout
        self.settings = settings
        self.reloader = Reloader(reload)
        self.signals: queue.Queue[Signal] = queue.Queue()
        self.events = EventLog(layout.events, clock.now, settings.hooks, settings.hook_timeout)
        self.state = StateFile(layout)  # state.json: the process's own marks (pid, stop)
        self.pipeline_loop = _loop_class(settings)(layout, settings, self.signals.put,
                                                   events=self.events)
        self.instance_lock = InstanceLock(layout.tasks)
        self.next_heartbeat = clock.now()
        self.housekeeping_day: date | None = None
        self.beats = heartbeat.Heartbeat(layout, settings.poll_interval, self._last_tick)
        self.metrics = Pm2Metrics()
        self.loop_finished = False  # set only when the loop thread ends by a stop
        self.loop_started = clock.now()
        self.repeats = Repeats()
        self.notify = NotifyHub(layout, settings, self.events)

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
        self.notify.start(self.state.read())
        self.late_watch = LateWatch(self.layout, clock.now(), self.events)
        self.events.listen(self.late_watch.on_event)
        procgroup.become_subreaper()  # the agent's orphans stay ours to end (Linux)
        recover_at_start(self.layout, self.pipeline_loop, self.settings, clock.now())
        watcher = Watcher(self.layout, self.signals.put, self._is_own_write)
        watcher.start()
        loop = threading.Thread(target=self._loop, name="runner-loop")
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGINT,
                                                                           signal.SIGTERM)}
        if hasattr(signal, "SIGHUP"):  # POSIX: `kill -HUP <pid>` re-reads runner.toml
            previous[signal.SIGHUP] = signal.signal(signal.SIGHUP, self._on_hangup)
        try:
            loop.start()
            while loop.is_alive():  # wakes up: a signal another thread took still runs here
                loop.join(SIGNAL_CHECK)
        finally:
            watcher.stop()
            self.notify.stop()
            self.events.unlisten(self.late_watch.on_event)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        if not self.loop_finished:
            logger.error("the runner's loop ended unexpectedly; exiting with {}", EXIT_LOOP_DIED)
            return EXIT_LOOP_DIED
        return EXIT_OK

    def _on_signal(self, signum: int, _frame: object) -> None:
        jsonfile.stop_waiting()  # a lock wait of the loop gives up: the stop comes first
        self.signals.put(Signal(SignalKind.STOP, payload=signal.Signals(signum).name))

    def _on_hangup(self, _signum: int, _frame: object) -> None:
        self.signals.put(Signal(SignalKind.RELOAD))

    def _is_own_write(self, path: str | None) -> bool:
        """Our own writes of queue.json and state.json are not news (a CLI's `resume`
        writing state.json is: it wakes the loop at once)."""
        return self.pipeline_loop.wrote_last(path)

    # ----- the loop --------------------------------------------------------------------
    def _loop(self) -> None:
        try:
            self._loop_until_stopped()
        except BaseException:  # noqa: BLE001 - logged; serve() then exits non-zero
            logger.exception("the runner's loop died")

    def _loop_until_stopped(self) -> None:
        started = self.loop_started = clock.now()
        self.pipeline_loop.note_agent(executable.missing(self.settings, self.pipeline_loop.env))
        self._guarded(self.pipeline_loop.tick)  # a poison item at start-up must not end the loop
        self._heartbeat(started, first=True)
        self.events.emit(EventKind.DAEMON_START, pid=os.getpid(), previous=self._previous_stop())
        logger.info("watching {} (pid {})", self.layout.root, os.getpid())
        first_ping = self.notify.beat(clock.now())  # a /fail after a crash goes out first
        reason = self._run_until_stopped(self._earliest(self.next_heartbeat, first_ping))
        self._shut_down(reason)
        self.loop_finished = True

    def _run_until_stopped(self, wake: datetime | None) -> str:
        while True:
            stop, others = split_stop(self._wait(wake))
            for item in others:  # even with a stop: an agent's end must not be dropped
                if item.kind == SignalKind.RELOAD:
                    self.reloader.wanted = True
                self._guarded(self.pipeline_loop.note, item)
            if stop is not None:
                return stop
            now = clock.now()
            tick = self._guarded(self.pipeline_loop.tick)
            if self.reloader.due(self.pipeline_loop):
                self._reload()
                tick = clock.now()
            wake = self._earliest(tick, self._heartbeat(now))

    def _guarded(self, step, *args):  # noqa: ANN001, ANN202
        """Run one step of the loop; an unexpected error (a full disk, a file that
        vanished) is logged and retried a second later - the daemon never dies of it.
        Nothing is lost meanwhile: every stage writes its destination before it
        removes its source."""
        try:
            result = step(*args, clock.now())
        except Exception as error:  # noqa: BLE001
            # the same error, again and again, is logged (with its traceback) once
            message = f"unexpected error in {step.__name__}: {error!r}; retrying in a second"
            if self.repeats.first(step.__name__, message):
                logger.exception(message)
            return clock.now() + timedelta(seconds=1)
        self.repeats.clear(step.__name__)
        return result

    def _wait(self, wake: datetime | None) -> list[Signal]:
        """Block until a signal arrives or `wake` passes; return every pending signal,
        a stop first."""
        timeout = None if wake is None else max(0.0, (wake - clock.now()).total_seconds())
        return drain(self.signals, timeout)

    @staticmethod
    def _earliest(*moments: datetime | None) -> datetime | None:
        return min((m for m in moments if m), default=None)

    def _last_tick(self) -> datetime:
        """The end of the last tick the loop completed (the loop's start until one has)."""
        return self.pipeline_loop.ticked_at or self.loop_started

    def _heartbeat(self, now: datetime, first: bool = False) -> datetime:
        """The first beat; later ones come from the heartbeat thread. Here: the chores
        of each heartbeat interval."""
        if first or now >= self.next_heartbeat:
            if first:
                heartbeat.beat(self.layout, self.state, now, self._last_tick(), first=True)
                self.beats.start()
            self.metrics.send(self.pipeline_loop.metrics())
            self.next_heartbeat = now + timedelta(seconds=self.settings.poll_interval)
            self.instance_lock.recheck()
            self._housekeeping(now)
            self._guarded(self.late_watch.check)
        return self._earliest(self.next_heartbeat, self.notify.beat(now))

    def _housekeeping(self, now: datetime) -> None:
        local = now.astimezone()
        if self.housekeeping_day != local.date() and \
                local.time() >= self.settings.daily_report_at:
            self.housekeeping_day = local.date()
            housekeeping.daily(self.layout, self.settings, now, self.events)

    def _previous_stop(self) -> str:
        events = read_lines(self.layout.events)
        starts_and_stops = [e for e in events[:-1] if e.get("event") in {"daemon_start",
                                                                         "daemon_stop"}]
        if not starts_and_stops or starts_and_stops[-1].get("event") == "daemon_stop":
            return "clean"
        return "crash"

    def _reload(self) -> None:
        """New settings take effect between runs: the loop gets a fresh Loop (its
        state is all in the files; the slot is idle)."""
        settings = self.reloader.load()
        if settings is None:
            return
        self.events.use_hooks(settings.hooks, settings.hook_timeout)
        self.settings = settings
        self.pipeline_loop = _loop_class(settings)(self.layout, settings, self.signals.put,
                                                   events=self.events)
        self.pipeline_loop.note_agent(executable.missing(settings, self.pipeline_loop.env))
        self.next_heartbeat = clock.now()
        logger.info("settings reloaded from runner.toml")
        self.events.emit(EventKind.SETTINGS_RELOADED)

    # ----- shut-down -------------------------------------------------------------------
    def _shut_down(self, reason: str) -> None:
        logger.info("stopping ({})", reason)
        self.pipeline_loop.begin_stop()
        deadline = clock.now() + timedelta(seconds=self.settings.kill_grace + 3)
        while self.pipeline_loop.busy and clock.now() < deadline:
            with contextlib.suppress(queue.Empty):
                self._guarded(self.pipeline_loop.note, self.signals.get(timeout=0.1))
            self._guarded(self.pipeline_loop.tick)
        self.beats.stop()
        self.state.update(pid=None, stoppedAt=iso(clock.now()))
        self.events.emit(EventKind.DAEMON_STOP, pid=os.getpid(), reason=reason,
                         maxRssMb=_max_rss_mb())
        logger.info("stopped")


def split_stop(items: list[Signal]) -> tuple[str | None, list[Signal]]:
    """The first stop's reason (None: no stop) and every other signal, in order. A stop
    that arrives in the same batch as the agent's `finished` (PM2 signals the agent and
    the runner together) must not lose the finished signal."""
    stops = [str(item.payload) for item in items if item.kind == SignalKind.STOP]
    return (stops[0] if stops else None), [item for item in items if item.kind != SignalKind.STOP]


def _loop_class(settings: Settings) -> type[Loop]:
    """The files backend runs tasks itself; the postgres head hands them to nodes."""
    if settings.backend_kind == "postgres":
        from pipeline.postgres.head import HeadLoop

        return HeadLoop
    return Loop


def _max_rss_mb() -> float | None:
    """Peak memory, so a stop by PM2's max_memory_restart can be told from others."""
    try:
        import resource
    except ImportError:  # Windows
        return None
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
