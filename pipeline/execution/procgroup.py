"""The platform part of running an agent, fenced here: its own session / process
group, signals to the whole group, the child subreaper and reaping. POSIX below;
the Windows branch (CREATE_NEW_PROCESS_GROUP, CTRL_BREAK_EVENT, psutil's tree kill)
is procgroup_windows.py beside it. Finding descendants is portable (proctree.py)."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
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


PR_SET_CHILD_SUBREAPER = 36


def become_subreaper() -> bool:
    """Linux: orphaned descendants of the agent (a double fork, Claude Code's background
    Bash processes) are re-parented to the daemon instead of init, so the end of a run
    still finds them. Returns whether it worked (False elsewhere)."""
    if not sys.platform.startswith("linux"):
        return False
    import ctypes  # only the daemon needs it (CLI start-up)

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def reap(pids: set[int]) -> None:
    """Collect the exit status of ended children (re-parented orphans become ours)."""
    for pid in pids:
        with contextlib.suppress(ChildProcessError, OSError):
            os.waitpid(pid, os.WNOHANG)


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


if sys.platform == "win32":  # the Windows branch replaces every function above
    from pipeline.execution.procgroup_windows import (  # noqa: F401, F811
        become_subreaper,
        group_alive,
        interrupt,
        kill,
        pid_alive,
        reap,
        running,
        signal_group,
        spawn_options,
        start_ticks,
        terminate,
    )
