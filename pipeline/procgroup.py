"""The POSIX-only part of running an agent: its own session / process group,
and signals to the whole group. A Windows branch (CREATE_NEW_PROCESS_GROUP and a
tree kill) would live here and nowhere else."""

from __future__ import annotations

import contextlib
import os
import signal
from pathlib import Path
from typing import Any


def spawn_options() -> dict[str, Any]:
    """Popen keyword arguments that put the child in a new session and process group."""
    return {"start_new_session": True}


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


def terminate(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGTERM)


def kill(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGKILL)


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
