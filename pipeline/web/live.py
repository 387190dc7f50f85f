"""File changes -> topics -> every open page, as server-sent events.

watchdog reports changes under the root; `topic_of` only classifies a path (which part
of the page it touches); `Broadcast` hands the topics from watchdog's thread to each
subscriber's asyncio queue. The page then re-fetches only the parts that listen to them.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer

from pipeline.storage.layout import Layout

COALESCE_SECONDS = 0.03  # one message for the burst of writes a single change makes
_TASK_FILES = {"queue.json": "queue", "running.json": "running", "completed.json": "history",
               "failed.json": "history", "scheduled.json": "schedules", "state.json": "state"}


def topic_of(layout: Layout, path: Path) -> str | None:
    """The topic a changed path belongs to, or None for paths no view shows."""
    name = path.name
    if name.startswith(".") or name.endswith((".lock", ".tmp")):
        return None
    folder = path.parent
    if folder == layout.tasks:
        return _TASK_FILES.get(name)
    if folder == layout.history:
        return "history"
    if folder in (layout.inbox, layout.rejected):
        return "inbox"
    if folder == layout.task_logs and name.endswith(".log"):
        return f"log:{name[:-4]}"
    if path == layout.events:
        return "events"
    if folder == layout.logs / "reports":
        return "reports"
    return None


class _Subscriber:
    """The topics one page has not been told yet: a set, so a slow page costs no memory."""

    def __init__(self) -> None:
        self.pending: set[str] = set()
        self.ready = asyncio.Event()

    def add(self, topic: str) -> None:
        self.pending.add(topic)
        self.ready.set()

    async def next_burst(self) -> list[str]:
        await self.ready.wait()
        await asyncio.sleep(COALESCE_SECONDS)
        burst, self.pending = sorted(self.pending), set()
        self.ready.clear()
        return burst


class Broadcast:
    """Thread-safe fan-out of topics to the subscribers of one event loop."""

    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.subscribers: set[_Subscriber] = set()

    def publish(self, topic: str) -> None:
        """Called from watchdog's thread."""
        if self.loop is not None and not self.loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile
                self.loop.call_soon_threadsafe(self._deliver, topic)

    def _deliver(self, topic: str) -> None:
        for subscriber in self.subscribers:
            subscriber.add(topic)

    async def topics(self) -> AsyncIterator[list[str]]:
        """The changed topics, one sorted list per burst, for as long as the client listens."""
        subscriber = _Subscriber()
        self.subscribers.add(subscriber)
        try:
            while True:
                yield await subscriber.next_burst()
        finally:
            self.subscribers.discard(subscriber)


class _Handler(FileSystemEventHandler):
    def __init__(self, layout: Layout, broadcast: Broadcast) -> None:
        self.layout = layout
        self.broadcast = broadcast

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory or event.event_type in ("opened", "closed_no_write"):
            return
        for raw in (event.src_path, getattr(event, "dest_path", "")):
            topic = topic_of(self.layout, Path(str(raw))) if raw else None
            if topic:
                self.broadcast.publish(topic)


class Watcher:
    """watchdog on the folders the views show; started and stopped with the app."""

    def __init__(self, layout: Layout, broadcast: Broadcast) -> None:
        self.layout = layout
        self.handler = _Handler(layout, broadcast)
        self.observer: Observer | None = None

    def start(self) -> None:
        self.layout.ensure()
        self.observer = Observer()
        for folder in (self.layout.tasks, self.layout.history, self.layout.inbox,
                       self.layout.logs, self.layout.task_logs):
            self.observer.schedule(self.handler, str(folder), recursive=False)
        reports = self.layout.logs / "reports"
        if reports.is_dir():
            self.observer.schedule(self.handler, str(reports), recursive=False)
        self.observer.start()

    def stop(self) -> None:
        if self.observer is not None:
            self.observer.stop()
            self.observer.join(timeout=5)
