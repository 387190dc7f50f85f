"""Where work comes from: watchdog events on inbox/ and tasks/, turned into signals.

Handlers run on watchdog's dispatcher thread, so they only classify the event and
post a Signal; the runner's loop thread does all the work (DESIGN.md).
"""

from __future__ import annotations

import contextlib
import queue
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.storage.layout import Layout, is_candidate


class SignalKind(StrEnum):
    """What woke the loop: a file source, the slot, or the process."""
    INBOX = "inbox"
    QUEUE = "queue"
    SCHEDULED = "scheduled"
    STATE = "state"
    CANCEL = "cancel"
    FINISHED = "finished"      # the agent ended (payload: AttemptEnd)
    PROGRESS = "progress"      # the agent's stream moved on (payload: Progress)
    STOP = "stop"              # SIGINT/SIGTERM (payload: the signal's name)
    RELOAD = "reload"          # SIGHUP
    DB = "db"                  # postgres: a NOTIFY
    WAKE = "wake"              # postgres node: look for work
    LOST = "lost"              # postgres node: a lease was taken back
    FENCE = "fence"            # postgres node: a lease could not be renewed


@dataclass(frozen=True)
class Signal:
    kind: SignalKind
    path: str | None = None
    closed: bool = False      # the writer is done with the file (closed or renamed in)
    payload: Any = None


_TASK_FILES = {"queue.json": SignalKind.QUEUE, "scheduled.json": SignalKind.SCHEDULED,
               "state.json": SignalKind.STATE}
_DONE_WRITING = {"closed", "moved"}


def drain(signals: queue.Queue[Signal], timeout: float | None) -> list[Signal]:
    """Block until a signal arrives or `timeout` seconds pass (None: forever); return every
    pending signal, a stop first."""
    items: list[Signal] = []
    try:
        items.append(signals.get(timeout=timeout))
    except queue.Empty:
        return items
    with contextlib.suppress(queue.Empty):
        while True:
            items.append(signals.get_nowait())
    return sorted(items, key=lambda item: item.kind != SignalKind.STOP)


def classify(layout: Layout, event: FileSystemEvent) -> Signal | None:
    """The signal an event stands for, or None when it is noise."""
    if event.event_type in {"opened", "closed_no_write"}:
        return None
    raw = event.dest_path if event.event_type == "moved" else event.src_path
    path = Path(raw.decode() if isinstance(raw, bytes) else raw)
    folder = path.parent
    if folder == layout.tasks and path.name in _TASK_FILES:  # a folder put in its place too
        return Signal(_TASK_FILES[path.name], str(path))
    if event.is_directory:
        return None
    if folder == layout.inbox and is_candidate(path) and event.event_type != "deleted":
        return Signal(SignalKind.INBOX, str(path), closed=event.event_type in _DONE_WRITING)
    if folder == layout.cancel_requests and event.event_type != "deleted":
        return Signal(SignalKind.CANCEL, str(path))
    return None


class _Handler(FileSystemEventHandler):
    def __init__(self, layout: Layout, post: Callable[[Signal], None],
                 is_own_write: Callable[[str], bool]) -> None:
        self.layout = layout
        self.post = post
        self.is_own_write = is_own_write

    def on_any_event(self, event: FileSystemEvent) -> None:
        signal = classify(self.layout, event)
        own = signal and signal.kind in (SignalKind.QUEUE, SignalKind.STATE) \
            and self.is_own_write(signal.path)
        if signal and not own:
            self.post(signal)


class Watcher:
    """Watches inbox/, tasks/ and tasks/cancel/ (not recursively: history writes are not news)."""

    def __init__(self, layout: Layout, post: Callable[[Signal], None],
                 is_own_write: Callable[[str], bool]) -> None:
        self.observer = Observer()
        handler = _Handler(layout, post, is_own_write)
        for folder in (layout.inbox, layout.tasks, layout.cancel_requests):
            self.observer.schedule(handler, str(folder), recursive=False)

    def start(self) -> None:
        self.observer.start()

    def stop(self) -> None:
        self.observer.stop()
        self.observer.join(timeout=5)
