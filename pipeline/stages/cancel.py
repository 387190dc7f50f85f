"""Cancelling: a queued task is archived as cancelled and leaves the queue; a running
one is asked for through a request file `tasks/cancel/<id>`, which the daemon watches
(and honours at start if it was down)."""

from __future__ import annotations

import contextlib
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.domain.outcome import Outcome
from pipeline.domain.task import Task, salvaged_task
from pipeline.stages.archive import Archive
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


def archive_cancelled(archive: Archive, task: Task, now: datetime) -> None:
    archive.record_end(task, Outcome.CANCELLED, now, "cancelled", task.attempts_made)


def cancel_queued(queue: TaskQueue, archive: Archive, task_id: str,
                  now: datetime) -> Task | None:
    """Archive and remove a queued task (archived first, under the queue's lock: a
    crash in between can leave a duplicate, never a loss). None when not queued."""
    return queue.remove(task_id, now, lambda task: archive_cancelled(archive, task, now))


def cancel_all(queue: TaskQueue, archive: Archive, now: datetime) -> list[Any]:
    """Archive every queued entry as cancelled and empty the queue (under its lock, as
    `cancel_queued`). An entry without a usable id gets one for its record."""

    def keep_safe(entry: Any) -> None:  # noqa: ANN401 - the raw entry: anything at all
        archive_cancelled(archive, salvaged_task(entry, now), now)

    return queue.take_all(keep_safe)


def request(layout: Layout, task_id: str) -> None:
    layout.cancel_requests.mkdir(parents=True, exist_ok=True)
    (layout.cancel_requests / task_id).touch()  # an empty file: nothing to tear


def pending_requests(layout: Layout) -> list[Path]:
    """Request files, oldest name first; temp files of other writers are not requests."""
    if layout.cancel_requests.is_symlink():  # swapped for a link while running: not followed
        return []
    return sorted(layout.cancel_requests.glob("[!.]*"))


def clear_request(layout: Layout, task_id: str) -> None:
    with contextlib.suppress(IsADirectoryError, PermissionError):  # not a request: left alone
        (layout.cancel_requests / task_id).unlink(missing_ok=True)
