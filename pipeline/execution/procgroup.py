"""The POSIX-only part of running an agent: its own session / process group,
and signals to the whole group. A Windows branch (CREATE_NEW_PROCESS_GROUP and a
tree kill) would live here and nowhere else."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any

PRIVATE_UMASK = 0o077
_user_umask: int | None = None  # set by go_private(); children get it back


def go_private() -> None:
    """The daemon's own files (history, task logs, prompt files) become 0600/0700; the
    agents and hooks it starts keep the umask the daemon was started with."""
    global _user_umask
    previous = os.umask(PRIVATE_UMASK)
    if _user_umask is None:
        _user_umask = previous


def spawn_options() -> dict[str, Any]:
    """Popen keyword arguments that put the child in a new session and process group."""
    options: dict[str, Any] = {"start_new_session": True}
    if _user_umask is not None and os.name == "posix":
        options["umask"] = _user_umask
    return options


def signal_group(pgid: int, sig: int) -> bool:
    """Send `sig` to every process of the group; False when the group is gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    except PermissionError:
        return False
    return True


def group_alive(pgid: int) -> bool:
    return signal_group(pgid, 0)


def interrupt(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGINT)


def terminate(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGTERM)


def kill(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGKILL)


def _parent_map() -> dict[int, int]:
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError, ValueError, IndexError):
                stat = (entry / "stat").read_text()
                parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    return parents


def descendants(pid: int) -> set[tuple[int, int | None]]:
    """(pid, start ticks) of every process below `pid`, wherever its session is.

    Claude Code starts its Bash tool commands in sessions of their own, which a
    signal to the agent's group does not reach; once the agent dies they are
    re-parented and can no longer be found, so they are collected while it runs.
    """
    children: dict[int, list[int]] = {}
    for child, parent in _parent_map().items():
        children.setdefault(parent, []).append(child)
    found, todo = set(), list(children.get(pid, []))
    while todo:
        current = todo.pop()
        found.add((current, start_ticks(current)))
        todo += children.get(current, [])
    return found


def kill_tracked(processes: set[tuple[int, int | None]], sig: int) -> None:
    """Signal processes collected by `descendants` that are still the same processes."""
    for pid, ticks in processes:
        if start_ticks(pid) == ticks:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)


def start_ticks(pid: int) -> int | None:
    """The process's start time in clock ticks since boot (Linux), to tell a pid we
    started from an unrelated process that later got the same number."""
    with contextlib.suppress(OSError, ValueError, IndexError):
        stat = Path(f"/proc/{pid}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[19])
    return None


def running(pid: int) -> bool:
    """Alive and not a zombie (a zombie has finished; it only waits to be reaped)."""
    if not pid_alive(pid):
        return False
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
