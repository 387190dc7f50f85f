"""The Windows branch of procgroup: a new process group per agent, CTRL_BREAK_EVENT
for the polite stop, and psutil's tree kill for the rest (Windows has no signals to
a group and no subreaper). Imported only on Windows, by procgroup."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any

import psutil


def spawn_options() -> dict[str, Any]:
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP}  # type: ignore[attr-defined]


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def signal_group(pgid: int, sig: int) -> bool:
    tree = _tree(pgid)
    for process in tree:
        with contextlib.suppress(psutil.Error):
            if sig == signal.SIGTERM:
                process.terminate()
            elif sig != 0:
                process.kill()
    return bool(tree)


def group_alive(pgid: int) -> bool:
    return bool(_tree(pgid))


def interrupt(pgid: int) -> bool:
    try:
        os.kill(pgid, signal.CTRL_BREAK_EVENT)  # type: ignore[attr-defined]
    except OSError:
        return False
    return True


def terminate(pgid: int) -> bool:
    return signal_group(pgid, signal.SIGTERM)


def kill(pgid: int) -> bool:
    return signal_group(pgid, 9)


def become_subreaper() -> bool:
    return False


def reap(pids: set[int]) -> None:
    """Nothing to reap: Windows has no zombies."""


def start_ticks(pid: int) -> int | None:
    with contextlib.suppress(psutil.Error):
        return int(psutil.Process(pid).create_time() * 100)
    return None


def running(pid: int) -> bool:
    return psutil.pid_exists(pid)


def pid_alive(pid: int) -> bool:
    return psutil.pid_exists(pid)
