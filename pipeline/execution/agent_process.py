"""The single slot: one agent process at a time, in its own process group.

A waiter thread blocks on the process and reports an `AttemptEnd` through a
callback; timers enforce the timeout. Ending a run: SIGINT to the group first
(Claude Code then ends its tool processes itself, which live in sessions of their
own), SIGTERM a second later, SIGKILL after `kill_grace` - each also sent to every
descendant seen while the agent ran. `stop()` ends a run early for a cancel or a
shutdown.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import psutil

from pipeline.domain.attempt import AttemptEnd, Progress, StopReason
from pipeline.execution import gitfacts, procgroup, proctree
from pipeline.execution.output_watch import OutputWatch
from pipeline.execution.verify import run_verify

OUTPUT_TAIL_BYTES = 1_000_000
INTERRUPT_WAIT = 1.0  # seconds between SIGINT and SIGTERM
MAX_TIMER_SECONDS = min(threading.TIMEOUT_MAX, 365 * 86400.0)
NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _open_private(path: Path, flags: int):  # noqa: ANN202
    """A binary file opened for writing, created 0600, never through a symlink."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | NO_FOLLOW | flags, 0o600)
    return os.fdopen(fd, "wb")


def _write_private(path: Path, data: bytes) -> None:
    with _open_private(path, os.O_TRUNC) as handle:
        handle.write(data)


@dataclass(frozen=True)
class Launch:
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    prompt: str
    prompt_file: Path        # the prompt is written here and given on stdin; removed at the end
    log_path: Path
    header: str
    timeout: float
    kill_grace: float
    idle_timeout: float = 0.0  # seconds without output before the run is ended; 0 = off
    watch_output: bool = False  # report stream-json progress
    verify: tuple[str, ...] = ()  # the task's verify argv, run after an exit 0
    verify_timeout: float = 600.0
    git_baseline: tuple[str | None, str] | None = None  # the task's first snapshot (head, tree)
    marker: str = ""  # CLAUDE_RUNNER_ATTEMPT in the agent's environment (proctree.py)


class AgentProcess:
    def __init__(self, launch: Launch, on_end: Callable[[AttemptEnd], None],
                 on_progress: Callable[[Progress], None] | None = None) -> None:
        self.launch = launch
        self.on_end = on_end
        self.on_progress = on_progress or (lambda _: None)
        self.watch: OutputWatch | None = None
        self.idle = False
        self.tracked: set[proctree.Seen] = set()  # timer threads add, the waiter reads
        self._tracked_lock = threading.Lock()
        self._ending = False
        self.process: subprocess.Popen[bytes] | None = None
        self.stop_reason: StopReason | None = None
        self.timed_out = False
        self._timers: list[threading.Timer] = []
        self._lock = threading.Lock()
        self.offset = 0
        self.git_before: gitfacts.Snapshot | None = None
        self.verify_pid: int | None = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def start(self) -> int:
        """Spawn the agent; raises (OSError, ValueError, ...) if it cannot be started."""
        launch = self.launch
        launch.log_path.parent.mkdir(parents=True, exist_ok=True)
        _write_private(launch.prompt_file, launch.prompt.encode("utf-8"))
        self.git_before = (gitfacts.Snapshot(*launch.git_baseline) if launch.git_baseline
                           else gitfacts.snapshot(launch.cwd))
        with _open_private(launch.log_path, os.O_APPEND) as log, \
                open(launch.prompt_file, "rb") as prompt:
            log.write(launch.header.encode())
            log.flush()
            self.offset = log.tell()
            self.process = subprocess.Popen(  # noqa: S603 - argv list, never a shell
                launch.argv, cwd=launch.cwd, env=launch.env, stdin=prompt,
                stdout=log, stderr=log, **procgroup.spawn_options(),
            )
        self._arm(launch.timeout, self._on_timeout)
        if launch.idle_timeout or launch.watch_output:
            self.watch = OutputWatch(launch.log_path, self.offset, launch.idle_timeout,
                                     self.on_progress, self._on_idle, launch.watch_output)
            self.watch.start()
        threading.Thread(target=self._wait, name="agent-waiter", daemon=True).start()
        return self.process.pid

    def stop(self, reason: StopReason) -> None:
        """End the run (cancel or shutdown): SIGTERM the group, SIGKILL after the grace."""
        with self._lock:
            if self.stop_reason is None:
                self.stop_reason = reason
        self._terminate()
        if self.verify_pid:
            procgroup.kill(self.verify_pid)

    def _arm(self, delay: float, action: Callable[[], None]) -> None:
        # a Timer beyond TIMEOUT_MAX dies at once with OverflowError: no timeout at all
        timer = threading.Timer(min(delay, MAX_TIMER_SECONDS), action)
        timer.daemon = True
        self._timers.append(timer)
        timer.start()

    def _on_timeout(self) -> None:
        self.timed_out = True
        self._terminate()

    def _on_idle(self) -> None:
        self.idle = True
        self._on_timeout()

    def _terminate(self) -> None:
        with self._lock:
            if self._ending:
                return
            self._ending = True
        self._track()
        procgroup.interrupt(self.pid)
        self._arm(INTERRUPT_WAIT, self._send_term)

    def _send_term(self) -> None:
        self._track()
        procgroup.terminate(self.pid)
        proctree.send(proctree.still_running(self._seen()), signal.SIGTERM)
        self._arm(self.launch.kill_grace, self._send_kill)

    def _send_kill(self) -> None:
        procgroup.kill(self.pid)
        proctree.send(proctree.still_running(self._seen()), proctree.KILL)

    def _track(self) -> None:
        if self.process and self.process.poll() is None:
            found = proctree.descendants(self.process.pid)
            with self._tracked_lock:
                self.tracked |= found

    def _seen(self) -> set[proctree.Seen]:
        with self._tracked_lock:
            return set(self.tracked)

    def _wait(self) -> None:
        assert self.process is not None
        code = self.process.wait()
        self._end_stragglers()
        for timer in self._timers:
            timer.cancel()
        if self.watch:
            self.watch.stop()
        self.launch.prompt_file.unlink(missing_ok=True)
        output = self._read_output()
        self.on_end(AttemptEnd(code, self.timed_out, self.stop_reason, output, idle=self.idle,
                               **self._afterwork(code)))

    def _afterwork(self, code: int) -> dict:
        """The workspace's git facts, and the verify command after an exit 0."""
        found = gitfacts.facts(self.launch.cwd, self.git_before) if self.git_before else None
        result: dict = {"git": found[0], "changed": found[1]} if found else {}
        launch = self.launch
        if launch.verify and code == 0 and not self.timed_out and self.stop_reason is None:
            result["verify"] = run_verify(list(launch.verify), launch.cwd, launch.env,
                                          launch.verify_timeout, launch.log_path,
                                          self._verify_started)
        return result

    def _end_stragglers(self) -> None:
        """What the agent left behind - its group, the descendants seen, and (Linux,
        as the daemon's re-parented children) every process carrying the run's marker
        - gets SIGTERM, then SIGKILL after the grace."""
        pgid = self.process.pid
        leftovers = self._leftovers()
        group = procgroup.terminate(pgid)
        proctree.send(leftovers, signal.SIGTERM)
        deadline = time.monotonic() + self.launch.kill_grace
        while group and procgroup.group_alive(pgid) and time.monotonic() < deadline:
            time.sleep(0.05)
        _, alive = psutil.wait_procs(leftovers, timeout=max(0.0, deadline - time.monotonic()))
        procgroup.kill(pgid)
        proctree.send(alive, proctree.KILL)
        psutil.wait_procs(alive, timeout=1.0)

    def _leftovers(self) -> list[psutil.Process]:
        found = {p.pid: p for p in proctree.still_running(self._seen())}
        if self.launch.marker:
            found.update((p.pid, p) for p in proctree.marked_children(self.launch.marker))
        return list(found.values())

    def _verify_started(self, pid: int) -> None:
        self.verify_pid = pid
        if self.stop_reason is not None:  # a stop came while it started
            procgroup.kill(pid)

    def _read_output(self) -> str:
        size = os.path.getsize(self.launch.log_path)
        start = max(self.offset, size - OUTPUT_TAIL_BYTES)
        with open(self.launch.log_path, "rb") as log:
            log.seek(start)
            return log.read().decode("utf-8", errors="replace")
