"""The admit stage: inbox files and queue.json entries become valid queued tasks.

An inbox file is admitted whole or not at all. A rejected file moves to
inbox/rejected/ with `<name>.error.json` beside it; its content is never changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

import orjson

from pipeline.agent.presets import PROMPT_PREVIEW, one_line
from pipeline.domain import limits
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.validation import FieldError, validate
from pipeline.log import logger
from pipeline.log_once import Repeats
from pipeline.stages.inbox_entry import (
    free_name,
    not_a_file,
    read_limited,
    readable,
    report_name,
)
from pipeline.storage.jsonfile import CorruptFile, dumps, write_atomic
from pipeline.storage.layout import Layout, is_candidate
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue

STABLE_SECONDS = 1.0
class Admission(StrEnum):
    ADMITTED = "admitted"
    REJECTED = "rejected"
    WAITING = "waiting"        # the queue is full: the file stays in inbox/
    NOT_READY = "not-ready"    # still being written
    DEFERRED = "deferred"      # the queue cannot be written now (damaged file, disk)


def inbox_files(layout: Layout) -> list[Path]:
    """Candidates, oldest first (FIFO by modification time, then name). Whatever is named
    like one - a folder, a FIFO, a symlink - is a candidate too (and gets rejected with a
    reason); nothing is followed or opened here."""
    entries = []
    with contextlib.suppress(FileNotFoundError, NotADirectoryError):
        for entry in os.scandir(layout.inbox):
            if is_candidate(Path(entry.path)):
                with contextlib.suppress(OSError):
                    mtime = entry.stat(follow_symlinks=False).st_mtime_ns
                    entries.append((mtime, entry.name, Path(entry.path)))
    return [path for _, _, path in sorted(entries)]


def parse_inbox(raw: bytes) -> tuple[list[Any], list[FieldError]]:
    """The entries of an inbox file, or the reason the file as a whole is unusable."""
    if not raw.strip():
        return [], [FieldError(None, "(file)", "file is empty")]
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as error:
        return [], [FieldError(None, "(file)", f"not valid JSON: {error}")]
    if isinstance(data, dict) and "list" in data and "prompt" not in data:
        entries = data["list"]
        if not isinstance(entries, list):
            return [], [FieldError(None, "list", "must be a list of tasks")]
        if not entries:
            return [], [FieldError(None, "list", "is empty")]
        if len(entries) > limits.MAX_LIST_ENTRIES:
            return [], [FieldError(None, "list", f"has more than {limits.MAX_LIST_ENTRIES} "
                                   "tasks; split it into several files")]
        return entries, []
    if isinstance(data, dict):
        return [data], []
    return [], [FieldError(None, "(file)", "must be a task object or {\"list\": [...]}")]


def validate_entries(entries: list[Any], settings: Settings) -> list[FieldError]:
    many = len(entries) > 1
    errors: list[FieldError] = []
    for index, entry in enumerate(entries):
        errors += validate(entry, settings, index if many else None)
    return errors


@dataclass
class Admitter:
    layout: Layout
    settings: Settings
    queue: TaskQueue
    repeats: Repeats = field(default_factory=Repeats)

    def admit_file(self, path: Path, now: datetime, closed: bool) -> Admission:
        """`closed`: the writer is done (closed it, or renamed it in). Whatever the file
        holds, it ends admitted, rejected with a reason, or waiting - never an exception."""
        try:
            info = path.lstat()
        except FileNotFoundError:
            return Admission.DEFERRED
        problem = not_a_file(info)
        limit = self.settings.max_inbox_file_bytes
        if problem is None and info.st_size > limit:
            problem = f"is larger than limits.inbox_file_bytes ({info.st_size} > {limit} bytes)"
        if problem:
            return self.reject(path, [FieldError(None, "(file)", problem)], now)
        try:
            return self._admit_regular(path, info, now, closed)
        except FileNotFoundError:
            return Admission.DEFERRED
        except Exception as error:  # noqa: BLE001 - one bad file must not stop the loop
            reason = f"cannot be admitted: {type(error).__name__}: {error}"
            return self.reject(path, [FieldError(None, "(file)", reason)], now)

    def _admit_regular(self, path: Path, info: os.stat_result, now: datetime,
                       closed: bool) -> Admission:
        limit = self.settings.max_inbox_file_bytes
        raw = read_limited(path, limit)
        if len(raw) > limit:
            reason = f"is larger than limits.inbox_file_bytes ({limit} bytes)"
            return self.reject(path, [FieldError(None, "(file)", reason)], now)
        entries, errors = parse_inbox(raw)
        settled = closed or now.timestamp() - info.st_mtime >= STABLE_SECONDS
        if errors and not settled:
            # A complete JSON object is ready however it arrived (a file renamed in from
            # an unwatched folder shows up as "created"); no prefix of one parses, so a
            # file still being written waits for its close or a second of quiet.
            return Admission.NOT_READY
        errors = errors or validate_entries(entries, self.settings)
        if errors:
            return self.reject(path, errors, now)
        return self._enqueue(path, with_file_ids(entries, path, info, raw), now)

    def _enqueue(self, path: Path, entries: list[dict[str, Any]], now: datetime) -> Admission:
        try:
            admitted = self.queue.enqueue(entries, now)
        except (QueueFull, DuplicateIds) as refusal:
            if self._admitted_before(path, entries):
                return Admission.ADMITTED
            if isinstance(refusal, QueueFull):
                return Admission.WAITING
            return self.reject(path, refusal.errors, now)
        except Exception as error:  # noqa: BLE001 - the queue's trouble, not the file's
            self.repeats.log(f"admit:{path.name}", f"cannot admit {readable(path.name)} now: "
                             f"{error}", logger.error)
            return Admission.DEFERRED
        self.repeats.clear(f"admit:{path.name}")
        path.unlink(missing_ok=True)
        for task in admitted:
            logger.bind(task=task.id).info("admitted from {} - {}", path.name,
                                           one_line(task.prompt, PROMPT_PREVIEW))
        return Admission.ADMITTED

    def _admitted_before(self, path: Path, entries: list[dict[str, Any]]) -> bool:
        """A crash between enqueueing a file and deleting it leaves it in the inbox: its
        tasks are all queued, running or archived already - delete it, admit nothing."""
        try:
            known = self.queue.holds_all(entries)
        except (CorruptFile, OSError):
            return False
        if known:
            path.unlink(missing_ok=True)
            logger.info("{} was admitted before a restart; removed", path.name)
        return known

    def reject(self, path: Path, errors: list[FieldError], now: datetime) -> Admission:
        report = {"file": readable(path.name), "rejectedAt": iso(now),
                  "errors": [{**e.to_dict(), "reason": readable(e.reason)} for e in errors]}
        try:
            if self.layout.rejected.is_symlink():
                raise OSError(f"{self.layout.rejected} is a symbolic link; not followed")
            self.layout.rejected.mkdir(parents=True, exist_ok=True)
            target = free_name(self.layout.rejected, path.name, now)
            # the file first: once its report is there, the inbox name is free again (a
            # producer reusing it at once is not moved aside with the first file's reasons)
            os.replace(path, target)
            write_atomic(target.with_name(report_name(target.name)), dumps(report))
        except OSError as error:
            self.repeats.log("reject", f"cannot move rejected inbox files aside: {error}",
                             logger.error)
            return Admission.DEFERRED
        self.repeats.clear("reject")
        reasons = readable("; ".join(str(e) for e in errors[:5]))
        logger.warning("rejected {} -> rejected/{}: {}", readable(path.name),
                       readable(target.name), reasons)
        return Admission.REJECTED


def with_file_ids(entries: list[Any], path: Path, info: os.stat_result, raw: bytes
                  ) -> list[Any]:
    """Entries without an id get one derived from the file itself (its name, inode,
    mtime and bytes), so admitting the same file again after a crash yields the same
    ids - and is recognised - instead of a second copy of every task."""
    stamp = datetime.fromtimestamp(info.st_mtime).strftime("%Y%m%d-%H%M%S")
    named = []
    for index, entry in enumerate(entries):
        if isinstance(entry, dict) and not entry.get("id"):
            seed = f"{path.name}\0{info.st_ino}\0{info.st_mtime_ns}\0{index}\0".encode()
            digest = hashlib.sha256(seed + raw).hexdigest()[:8]
            entry = {**entry, "id": f"{stamp}-{digest}"}
        named.append(entry)
    return named
