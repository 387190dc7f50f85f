"""What an inbox entry is, read safely, and the names its rejection gets in rejected/.

Nothing here follows a link or waits on a FIFO; every name it makes fits NAME_MAX and is
written as UTF-8 even when the original is not.
"""

from __future__ import annotations

import hashlib
import os
import stat
from datetime import datetime
from pathlib import Path

NAME_MAX = 255  # bytes of one file name on common file systems
REPORT_SUFFIX = ".error.json"
TEMP_EXTRA = 16  # write_atomic's temp name adds `.` + `.xxxxxxxx.tmp`


def not_a_file(info: os.stat_result) -> str | None:
    """Why an inbox entry is not a plain file (it is never opened then)."""
    if stat.S_ISLNK(info.st_mode):
        return "is a symbolic link; inbox files must be regular files"
    if stat.S_ISDIR(info.st_mode):
        return "is a directory"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a FIFO, socket or device)"
    return None


def read_limited(path: Path, limit: int) -> bytes:
    """At most `limit` + 1 bytes of a regular file, opened without following a link and
    without blocking (a FIFO swapped in after the lstat is refused, never waited on)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"{path.name} is not a regular file")
        chunks, left = [], limit + 1
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def readable(text: str) -> str:
    """Text safe to write as UTF-8 JSON: a non-UTF-8 file name (surrogate escapes) shows
    its odd bytes as backslash escapes."""
    try:
        raw = text.encode("utf-8", "surrogateescape")  # the name's own bytes
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "backslashreplace")
    return raw.decode("utf-8", "backslashreplace")


def _name_bytes(name: str) -> int:
    return len(os.fsencode(name))


def _shorten(name: str, room: int) -> str:
    """`name` cut to `room` bytes, with a short hash of the whole so cut names differ."""
    if _name_bytes(name) <= room:
        return name
    digest = "~" + hashlib.sha1(os.fsencode(name)).hexdigest()[:8]
    cut = name
    while cut and _name_bytes(cut) + len(digest) > room:
        cut = cut[:-1]
    return cut + digest


def report_name(target_name: str) -> str:
    """`<name>.error.json`, shortened when that would exceed NAME_MAX (the original file
    keeps its full name; the report's `file` field names it)."""
    room = NAME_MAX - len(REPORT_SUFFIX) - TEMP_EXTRA
    return _shorten(target_name, room) + REPORT_SUFFIX


def free_name(folder: Path, name: str, now: datetime) -> Path:
    target = folder / name
    if not os.path.lexists(target):
        return target
    stem, dot, suffix = name.rpartition(".")
    stamp = now.strftime("%Y%m%dT%H%M%S%f")
    free = f"{stem}.{stamp}{dot}{suffix}" if dot else f"{name}.{stamp}"
    if _name_bytes(free) > NAME_MAX:
        free = _shorten(name, NAME_MAX - len(stamp) - 1) + "." + stamp
    return folder / free
