"""sources.classify: which watchdog events become which signals (a table, real event types)."""

from __future__ import annotations

import pytest
from watchdog.events import (
    DirCreatedEvent,
    DirDeletedEvent,
    FileClosedEvent,
    FileClosedNoWriteEvent,
    FileCreatedEvent,
    FileDeletedEvent,
    FileModifiedEvent,
    FileMovedEvent,
    FileOpenedEvent,
)

from pipeline.daemon.sources import Signal, classify
from pipeline.storage.layout import Layout


@pytest.fixture
def layout(tmp_path):
    return Layout(tmp_path)


CASES = [
    # (event factory, expected signal (kind, relative path, closed) or None)
    (lambda lay: FileCreatedEvent(f"{lay.inbox}/a.json"), ("inbox", "inbox/a.json", False)),
    (lambda lay: FileModifiedEvent(f"{lay.inbox}/a.json"), ("inbox", "inbox/a.json", False)),
    (lambda lay: FileClosedEvent(f"{lay.inbox}/a.json"), ("inbox", "inbox/a.json", True)),
    (lambda lay: FileMovedEvent(f"{lay.inbox}/.a.json", f"{lay.inbox}/a.json"),
     ("inbox", "inbox/a.json", True)),
    (lambda lay: FileMovedEvent("/elsewhere/a.json", f"{lay.inbox}/a.json"),
     ("inbox", "inbox/a.json", True)),
    (lambda lay: FileDeletedEvent(f"{lay.inbox}/a.json"), None),
    (lambda lay: FileCreatedEvent(f"{lay.inbox}/.a.json"), None),      # hidden: being written
    (lambda lay: FileCreatedEvent(f"{lay.inbox}/a.json.tmp"), None),   # temp name
    (lambda lay: FileCreatedEvent(f"{lay.inbox}/a.txt"), None),
    (lambda lay: FileOpenedEvent(f"{lay.inbox}/a.json"), None),
    (lambda lay: FileClosedNoWriteEvent(f"{lay.inbox}/a.json"), None),
    (lambda lay: DirCreatedEvent(f"{lay.inbox}/d.json"), None),
    (lambda lay: FileModifiedEvent(f"{lay.tasks}/queue.json"),
     ("queue", "tasks/queue.json", False)),
    (lambda lay: FileMovedEvent(f"{lay.tasks}/.q.tmp", f"{lay.tasks}/queue.json"),
     ("queue", "tasks/queue.json", False)),
    (lambda lay: FileModifiedEvent(f"{lay.tasks}/scheduled.json"),
     ("scheduled", "tasks/scheduled.json", False)),
    (lambda lay: FileModifiedEvent(f"{lay.tasks}/completed.json"), None),
    (lambda lay: DirDeletedEvent(f"{lay.tasks}/queue.json"),  # a folder in its place removed
     ("queue", "tasks/queue.json", False)),
    (lambda lay: FileCreatedEvent(f"{lay.cancel_requests}/t-1"),
     ("cancel", "tasks/cancel/t-1", False)),
    (lambda lay: FileDeletedEvent(f"{lay.cancel_requests}/t-1"), None),
    (lambda lay: FileCreatedEvent(f"{lay.inbox}/sub/a.json"), None),  # not recursive
]


@pytest.mark.parametrize(("make", "expected"), CASES)
def test_classify(layout, make, expected):
    signal = classify(layout, make(layout))
    if expected is None:
        assert signal is None
    else:
        kind, relative, closed = expected
        assert signal == Signal(kind, str(layout.root / relative), closed=closed)


def test_bytes_paths_are_decoded(layout):
    event = FileClosedEvent(f"{layout.inbox}/a.json".encode())
    assert classify(layout, event) == Signal("inbox", f"{layout.inbox}/a.json", closed=True)
