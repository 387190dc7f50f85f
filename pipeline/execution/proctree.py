"""Finding and ending an agent's processes wherever they went (portable, psutil).

Two ways to find them: the descendants seen while the agent lives (pid plus start
time, so a reused pid is never hit), and the attempt marker - every process of a
run inherits `CLAUDE_RUNNER_ATTEMPT=<id>` in its environment, which survives a
double fork, a new session and the daemon's own crash (recovery looks for it).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable

import psutil

from pipeline.execution import procgroup

MARKER_ENV = "CLAUDE_RUNNER_ATTEMPT"
Seen = tuple[int, float]  # (pid, create time)
KILL = 9  # SIGKILL; psutil's kill() on Windows


def descendants(pid: int) -> set[Seen]:
    """Every process below `pid`, whatever its session."""
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.Error:
        return set()
    seen = set()
    for child in children:
        with contextlib.suppress(psutil.Error):
            seen.add((child.pid, child.create_time()))
    return seen


def still_running(seen: Iterable[Seen]) -> list[psutil.Process]:
    """The processes of `seen` that are still the same processes (pid not reused)."""
    alive = []
    for pid, created in seen:
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if process.create_time() == created and process.status() != psutil.STATUS_ZOMBIE:
                alive.append(process)
    return alive


def carries(process: psutil.Process, marker: str) -> bool:
    try:
        return process.environ().get(MARKER_ENV) == marker
    except psutil.Error:
        return False


def parents() -> dict[int, int]:
    """pid -> parent pid of every process (one pass over /proc on Linux)."""
    if os.path.isdir("/proc/self"):
        found = {}
        for entry in os.scandir("/proc"):
            if entry.name.isdigit():
                with contextlib.suppress(OSError, ValueError, IndexError):
                    with open(f"/proc/{entry.name}/stat", "rb") as handle:
                        stat = handle.read()
                    found[int(entry.name)] = int(stat.rsplit(b")", 1)[1].split()[1])
        return found
    return {p.pid: p.ppid() for p in psutil.process_iter() if _safe(p)}


def _safe(process: psutil.Process) -> bool:
    try:
        process.ppid()
    except psutil.Error:
        return False
    return True


def below(pid: int, tree: dict[int, int]) -> list[int]:
    children: dict[int, list[int]] = {}
    for child, parent in tree.items():
        children.setdefault(parent, []).append(child)
    found, todo = [], list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.append(current)
        todo += children.get(current, [])
    return found


def marked_children(marker: str) -> list[psutil.Process]:
    """Our own (re-parented) descendants that belong to the run `marker`, after
    reaping those that already ended: one pass over the process table (the daemon is
    a subreaper on Linux, see procgroup.become_subreaper)."""
    me = os.getpid()
    tree = parents()
    procgroup.reap({pid for pid, parent in tree.items() if parent == me})  # only zombies go
    found = []
    for pid in below(me, tree):
        with contextlib.suppress(psutil.Error):
            process = psutil.Process(pid)
            if carries(process, marker):
                found.append(process)
    return found


def marked_anywhere(marker: str) -> list[psutil.Process]:
    """Every process of the run `marker` on the machine (after a crash of the daemon
    its orphans belong to init): a scan of all processes, for start-up only."""
    return [p for p in psutil.process_iter() if p.pid != os.getpid() and carries(p, marker)]


def send(processes: Iterable[psutil.Process], sig: int) -> None:
    for process in processes:
        with contextlib.suppress(psutil.Error):
            if sig == KILL:
                process.kill()
            elif sig == signal.SIGTERM:
                process.terminate()
            else:
                process.send_signal(sig)


def end(processes: list[psutil.Process], grace: float) -> None:
    """SIGTERM, then SIGKILL what is left after `grace` seconds; reap our own."""
    if not processes:
        return
    send(processes, signal.SIGTERM)
    _, alive = psutil.wait_procs(processes, timeout=grace)
    send(alive, KILL)
    psutil.wait_procs(alive, timeout=1.0)
    procgroup.reap({p.pid for p in processes})

