"""One daemon per root.

`tasks/daemon.lock` alone is not enough: a file can be deleted while locked, and the
next daemon then locks a new file of the same name and runs beside the first. So
the daemon also locks the `tasks/` folder itself (POSIX flock on the folder, which
is never unlinked while it holds files), and re-checks on every heartbeat that the
lock file is still the one it holds (recreating it if someone deleted it).
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path

from filelock import FileLock, Timeout

from pipeline.log import logger


class AlreadyRunning(Exception):
    pass


class InstanceLock:
    def __init__(self, tasks: Path) -> None:
        self.tasks = tasks
        self.path = tasks / "daemon.lock"
        self.file_lock = FileLock(str(self.path), timeout=0)
        self.folder_fd: int | None = None
        self.held: tuple[int, int] | None = None  # (device, inode) of the locked file

    def acquire(self) -> None:
        """Raises AlreadyRunning when another daemon holds the root."""
        self._lock_folder()
        try:
            self.file_lock.acquire()
        except Timeout:
            self._unlock_folder()
            raise AlreadyRunning() from None
        self.held = _identity(self.path)

    def recheck(self) -> None:
        """Recreate and lock daemon.lock again if it was deleted or replaced."""
        if self.held is None or _identity(self.path) == self.held:
            return
        logger.warning("tasks/daemon.lock was deleted or replaced; locking it again")
        self.file_lock.release(force=True)
        self.file_lock = FileLock(str(self.path), timeout=0)
        with contextlib.suppress(Timeout):
            self.file_lock.acquire()
        self.held = _identity(self.path)

    def release(self) -> None:
        self.file_lock.release(force=True)
        self._unlock_folder()

    def _lock_folder(self) -> None:
        if sys.platform == "win32":
            return
        import fcntl

        fd = os.open(self.tasks, os.O_RDONLY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            raise AlreadyRunning() from None
        self.folder_fd = fd

    def _unlock_folder(self) -> None:
        if self.folder_fd is not None:
            os.close(self.folder_fd)
            self.folder_fd = None


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        info = os.stat(path)
    except OSError:
        return None
    return (info.st_dev, info.st_ino)
