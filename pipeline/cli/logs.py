"""`claude-runner logs`: print a log file, and follow it as it grows (-f)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson

POLL_SECONDS = 0.2


def runner_line(raw: bytes) -> str:
    """The JSON log's lines, shown as the readable text loguru stored in them."""
    try:
        return orjson.loads(raw)["text"].rstrip("\n")
    except (orjson.JSONDecodeError, KeyError, TypeError):
        return raw.decode("utf-8", errors="replace").rstrip("\n")


def follow(path: Path, render: Callable[[bytes], str] | None,
           keep_going: Callable[[], bool]) -> None:
    """Print `path` (re-opened when rotated) until keep_going() says stop at end of file."""
    handle, inode = None, None
    while True:
        if handle is None or _rotated(path, inode):
            handle, inode = _open(path, handle)
        chunk = handle.readline() if handle else b""
        if chunk:
            sys.stdout.write(render(chunk) + "\n" if render else
                             chunk.decode("utf-8", errors="replace"))
            sys.stdout.flush()
            continue
        if not keep_going():
            return
        time.sleep(POLL_SECONDS)


def _rotated(path: Path, inode: int | None) -> bool:
    try:
        return os.stat(path).st_ino != inode
    except FileNotFoundError:
        return False


def _open(path: Path, old):  # type: ignore[no-untyped-def]
    if old:
        old.close()
    try:
        handle = open(path, "rb")  # noqa: SIM115 - kept open while following
    except FileNotFoundError:
        return None, None
    return handle, os.fstat(handle.fileno()).st_ino
