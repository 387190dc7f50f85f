"""`claude-runner logs`: print a log file, and follow it as it grows (-f)."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import orjson

POLL_SECONDS = 0.2


def runner_line(raw: bytes) -> str:
    """A runner.jsonl line as a person reads it: local time, level, task id, the stage
    (the module that logged it: admit, loop, finish, schedule...) and the message -
    not loguru's `module:function:line`. A traceback, if any, follows."""
    try:
        record = orjson.loads(raw)["record"]
        when = datetime.fromtimestamp(record["time"]["timestamp"]).astimezone()
        stage = str(record["name"]).rsplit(".", 1)[-1]
        line = (f"{when:%Y-%m-%d %H:%M:%S} {record['level']['name']:<7} "
                f"{record['extra'].get('task', '-'):<28} {stage:<12} {record['message']}")
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, OSError):
        return raw.decode("utf-8", errors="replace").rstrip("\n")
    if record.get("exception"):
        line += "\n" + orjson.loads(raw)["text"].split("\n", 1)[-1].rstrip("\n")
    return line


def tail_offset(path: Path, lines: int, block: int = 65536) -> int:
    """Where the last `lines` lines of `path` begin (0: the whole file)."""
    if lines <= 0:
        return 0
    try:
        handle = open(path, "rb")  # noqa: SIM115
    except FileNotFoundError:
        return 0
    with handle:
        end = handle.seek(0, os.SEEK_END)
        position, seen = end, 0
        if end and _byte_at(handle, end - 1) == b"\n":
            seen = -1  # the final newline ends the last line; it does not start one
        while position > 0:
            start = max(0, position - block)
            handle.seek(start)
            chunk = handle.read(position - start)
            for index in range(len(chunk) - 1, -1, -1):
                if chunk[index] == 10:
                    seen += 1
                    if seen == lines:
                        return start + index + 1
            position = start
    return 0


def _byte_at(handle, offset: int) -> bytes:  # type: ignore[no-untyped-def]
    handle.seek(offset)
    return handle.read(1)


def follow(path: Path, render: Callable[[bytes], str] | None,
           keep_going: Callable[[], bool], start: int = 0) -> None:
    """Print `path` from byte `start` (re-opened from its beginning when rotated) until
    keep_going() says stop at end of file."""
    handle, inode = None, None
    while True:
        if handle is None or _rotated(path, inode):
            handle, inode = _open(path, handle)
            if handle and start:
                handle.seek(start)
                start = 0
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


def wait_for_start(layout, queue, task_id: str) -> None:  # noqa: ANN001
    """`logs ID -f` on a queued task waits for its log, as `pueue follow` does; it
    stops waiting when the task is no longer queued or running (cancelled, say)."""
    from pipeline.storage.jsonfile import CorruptFile

    told = False
    while not layout.task_log(task_id).exists():
        try:
            waiting = any(task.id == task_id for task in queue.tasks())
            attempt = queue.running_attempt()
            running = attempt is not None and attempt.id == task_id
        except CorruptFile:
            waiting, running = True, False
        if not (waiting or running):
            return
        if not told:
            print(f"waiting for {task_id} to start...", file=sys.stderr, flush=True)
            told = True
        time.sleep(POLL_SECONDS)
