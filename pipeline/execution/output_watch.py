"""Follows a running attempt's log: stream-json turns, last activity, idle timeout.

Runs on its own thread only while an agent runs, polling the log's size twice a
second (the daemon stays at zero CPU when idle).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import orjson

from pipeline.domain.attempt import Progress
from pipeline.domain.clock import iso

POLL_SECONDS = 0.5
REPORT_EVERY = 2.0


# stream-json events that say the CLI is alive but not that the agent moved on: a stream
# made only of these (retries of a failing API, rate-limit notices, keep-alives) is idle
_NOT_PROGRESS_TYPES = {"rate_limit_event", "keep_alive", "ping"}
_NOT_PROGRESS_SUBTYPES = {"api_retry"}


def is_progress(line: bytes) -> bool:
    """Whether a stream-json line is the agent's progress (a turn, a tool result, the
    init or the result); other lines, JSON or not (stderr noise), are not."""
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return False
    if not isinstance(event, dict) or event.get("type") in _NOT_PROGRESS_TYPES:
        return False
    return event.get("subtype") not in _NOT_PROGRESS_SUBTYPES


def count_turns(lines: list[bytes]) -> int:
    """Assistant messages among stream-json event lines."""
    turns = 0
    for line in lines:
        if b'"assistant"' not in line:
            continue
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        turns += isinstance(event, dict) and event.get("type") == "assistant"
    return turns


class OutputWatch:
    def __init__(self, path: Path, offset: int, idle_timeout: float,
                 on_progress: Callable[[Progress], None],
                 on_idle: Callable[[], None], stream: bool = False) -> None:
        self.path = path
        self.position = offset
        self.idle_timeout = idle_timeout
        self.on_progress = on_progress
        self.on_idle = on_idle
        self.turns = 0
        self.last_activity = time.monotonic()
        self.last_report = 0.0
        self.pending = False
        self.activity_at = datetime.now(UTC)
        self._done = threading.Event()
        self._partial = b""
        self.stream = stream  # stream-json: only progress events count as activity

    def start(self) -> None:
        threading.Thread(target=self._run, name="output-watch", daemon=True).start()

    def stop(self) -> None:
        self._done.set()

    def _run(self) -> None:
        while not self._done.wait(POLL_SECONDS):
            if self._read_new():
                self.pending = True
            elif self.idle_timeout and time.monotonic() - self.last_activity > self.idle_timeout:
                self.on_idle()
                return
            if self.pending:
                self._report()

    def _read_new(self) -> bool:
        try:
            with open(self.path, "rb") as log:
                log.seek(self.position)
                chunk = log.read()
        except OSError:
            return False
        if not chunk:
            return False
        self.position += len(chunk)
        lines = (self._partial + chunk).split(b"\n")
        self._partial = lines.pop()
        self.turns += count_turns(lines)
        if self.stream and not any(is_progress(line) for line in lines):
            return False
        self.last_activity = time.monotonic()
        self.activity_at = datetime.now(UTC)
        return True

    def _report(self) -> None:
        """At most every REPORT_EVERY seconds; a change seen in between is reported on a
        later poll, output or not, so running.json never stays stale."""
        if time.monotonic() - self.last_report >= REPORT_EVERY:
            self.last_report = time.monotonic()
            self.pending = False
            self.on_progress(Progress(iso(self.activity_at), self.turns))
