"""JSON files on disk: parse strictly, write atomically, edit under a FileLock.

Rules (DESIGN.md): a file that fails to parse is never overwritten and never read
as empty; every read-modify-write re-reads under the lock; a save that changes
nothing is skipped so hand-edited files keep their bytes and mtime.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import orjson

from pipeline.domain.record import Record, records_in

if TYPE_CHECKING:
    from filelock import FileLock

T = TypeVar("T")
LOCK_TIMEOUT = 30.0
STOP_WAIT = 0.2  # seconds a lock is still waited for once the process is stopping
_stopping = threading.Event()


def stop_waiting() -> None:
    """The process is stopping: lock waits give up after STOP_WAIT (a writer holding a
    lock must not hold up a SIGTERM; what could not be written is retried later)."""
    _stopping.set()


def acquire(lock: FileLock, timeout: float = LOCK_TIMEOUT) -> None:
    """Wait for `lock` at most `timeout` s, or STOP_WAIT once stopping; raises
    filelock.Timeout (an OSError) when it stays busy."""
    from filelock import Timeout

    deadline = time.monotonic() + timeout
    while True:
        slice_ = STOP_WAIT if _stopping.is_set() else min(0.1, timeout)
        try:
            lock.acquire(timeout=slice_, poll_interval=0.005)
            return
        except Timeout:
            if _stopping.is_set() and slice_ == STOP_WAIT or time.monotonic() >= deadline:
                raise


class CorruptFile(Exception):
    """A JSON file exists but cannot be used; it must be left exactly as it is."""

    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason


def dumps(data: Any) -> bytes:
    """2-space indent, non-ASCII unescaped, trailing newline (the Node runner's format)."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2) + b"\n"


def _dumps_or_none(data: Any) -> bytes | None:
    try:
        return dumps(data)
    except orjson.JSONEncodeError:
        return None


def fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _replace(source: str, target: Path) -> None:
    """os.replace, retried briefly: Windows refuses while a reader has the target open."""
    for delay in (0.01, 0.05, 0.1, 0.25, 0.5):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            time.sleep(delay)
    os.replace(source, target)


def signature(path: Path) -> tuple[int, int, int] | None:
    """(inode, size, mtime) - tells one version of a file from another cheaply."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return None
    return (info.st_ino, info.st_size, info.st_mtime_ns)


def write_atomic(path: Path, payload: bytes, durable: bool = True) -> None:
    """Temp file in the same folder, fsync, rename, fsync the folder. Not `durable`:
    still atomic (old or new content, never a mix), but a power cut may bring the old
    version back - for writes that recovery can do without."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        _replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    if durable:
        fsync_dir(path.parent)


def read_bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def read_state_bytes(path: Path) -> bytes | None:
    """A state file's bytes; None when absent. Anything but a regular file where a state
    file belongs (a symlink - never followed -, a folder, a FIFO - never waited on) raises
    CorruptFile: it is left as it is."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno in (errno.ELOOP, errno.EISDIR, errno.ENOTDIR):
            raise CorruptFile(path, f"not a regular file ({error.strerror})") from None
        raise
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise CorruptFile(path, "not a regular file")
    with os.fdopen(fd, "rb") as handle:
        return handle.read()


def parse(path: Path, raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        raise CorruptFile(path, f"not valid JSON ({error})") from None


class JsonFile:
    """One JSON document with a default shape, e.g. {"list": []}.

    `key` names the top-level field that must hold a list ("list" or "tasks");
    None means any object.
    """

    def __init__(self, path: Path, key: str | None = None) -> None:
        self.path = path
        self.key = key
        self._lock: FileLock | None = None
        self.written: tuple[int, int, int] | None = None  # the version this process wrote last

    @property
    def lock(self) -> FileLock:
        """The file's lock, made when first needed (a read-only command never imports
        filelock)."""
        if self._lock is None:
            from filelock import FileLock

            self._lock = FileLock(f"{self.path}.lock", timeout=LOCK_TIMEOUT)
        return self._lock

    def _write(self, payload: bytes, durable: bool = True) -> None:
        write_atomic(self.path, payload, durable)
        self.written = signature(self.path)

    def empty(self) -> dict[str, Any]:
        return {self.key: []} if self.key else {}

    def load(self) -> dict[str, Any]:
        """The document; the default shape if the file is absent or blank-free empty.

        Raises CorruptFile for anything else that is not the expected shape.
        """
        raw = read_state_bytes(self.path)
        if raw is None:
            return self.empty()
        if not raw.strip():
            raise CorruptFile(self.path, "file is empty")
        data = parse(self.path, raw)
        if not isinstance(data, dict):
            raise CorruptFile(self.path, "top level is not an object")
        if self.key:
            data.setdefault(self.key, [])
            if not isinstance(data[self.key], list):
                raise CorruptFile(self.path, f'"{self.key}" is not a list')
        return data

    def items(self) -> list[Any]:
        return self.load()[self.key] if self.key else []

    def save(self, data: dict[str, Any], durable: bool = True) -> None:
        payload = dumps(data)
        if read_state_bytes(self.path) == payload:
            return
        self._write(payload, durable)

    def update(self, change: Callable[[dict[str, Any]], T]) -> T:
        """Read-modify-write under the lock; `change` edits the document in place.

        The file is not written if the document is unchanged.
        """
        acquire(self.lock)
        try:
            data = self.load()
            before = _dumps_or_none(data)  # None: unwritable as read (e.g. nested too deeply)
            result = change(data)
            if dumps(data) != before or not self.path.exists():
                self._write(dumps(data))
            return result
        finally:
            self.lock.release()


class HistoryLog:
    """Append-only `tasks/history/YYYY-MM-DD.jsonl`: one JSON line per terminal record."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path_for(self, day: str) -> Path:
        return self.folder / f"{day}.jsonl"

    def append(self, day: str, record: dict[str, Any]) -> None:
        append_line(self.path_for(day), record)

    def read(self, day: str) -> list[dict[str, Any]]:
        return read_lines(self.path_for(day))

    def records(self, day: str) -> list[Record]:
        """The day's lines that read as records."""
        return records_in(self.read(day))


def append_line(path: Path, record: dict[str, Any]) -> None:
    """Append one JSON line and fsync it."""
    append_text(path, orjson.dumps(record).decode())


def append_text(path: Path, line: str, sync: bool = True) -> None:
    """Append one line in a single write; O_APPEND keeps concurrent writers' lines whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags, 0o600)
    try:
        size = os.fstat(fd).st_size
        try:
            os.write(fd, line.encode() + b"\n")
            if sync:
                os.fsync(fd)
        except OSError:
            # not durable (a short write, a failed fsync): take it back, so the caller's
            # retry appends the line once, not twice
            with contextlib.suppress(OSError):
                os.ftruncate(fd, size)
            raise
    finally:
        os.close(fd)


def dumps_lines(records: list[dict[str, Any]]) -> bytes:
    """JSON lines, one record each (what `append_line` writes)."""
    return b"".join(orjson.dumps(record) + b"\n" for record in records)


def read_lines(path: Path) -> list[dict[str, Any]]:
    """Every parseable line of a JSON-lines file (a torn last line is skipped)."""
    raw = read_bytes(path)
    if raw is None:
        return []
    records = []
    for line in raw.splitlines():
        with contextlib.suppress(orjson.JSONDecodeError):
            value = orjson.loads(line)
            if isinstance(value, dict):
                records.append(value)
    return records
