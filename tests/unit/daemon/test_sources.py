"""sources.classify: which watchdog events become which signals (a table, real event types)."""

from __future__ import annotations

import pytest
from watchdog.events import (
    DirCreatedEvent,
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
    (lambda l: FileCreatedEvent(f"{l.inbox}/a.json"), ("inbox", "inbox/a.json", False)),
    (lambda l: FileModifiedEvent(f"{l.inbox}/a.json"), ("inbox", "inbox/a.json", False)),
    (lambda l: FileClosedEvent(f"{l.inbox}/a.json"), ("inbox", "inbox/a.json", True)),
    (lambda l: FileMovedEvent(f"{l.inbox}/.a.json", f"{l.inbox}/a.json"),
     ("inbox", "inbox/a.json", True)),
    (lambda l: FileMovedEvent("/elsewhere/a.json", f"{l.inbox}/a.json"),
     ("inbox", "inbox/a.json", True)),
    (lambda l: FileDeletedEvent(f"{l.inbox}/a.json"), None),
    (lambda l: FileCreatedEvent(f"{l.inbox}/.a.json"), None),      # hidden: being written
    (lambda l: FileCreatedEvent(f"{l.inbox}/a.json.tmp"), None),   # temp name
    (lambda l: FileCreatedEvent(f"{l.inbox}/a.txt"), None),
    (lambda l: FileOpenedEvent(f"{l.inbox}/a.json"), None),
    (lambda l: FileClosedNoWriteEvent(f"{l.inbox}/a.json"), None),
    (lambda l: DirCreatedEvent(f"{l.inbox}/d.json"), None),
    (lambda l: FileModifiedEvent(f"{l.tasks}/queue.json"), ("queue", "tasks/queue.json", False)),
    (lambda l: FileMovedEvent(f"{l.tasks}/.q.tmp", f"{l.tasks}/queue.json"),
     ("queue", "tasks/queue.json", False)),
    (lambda l: FileModifiedEvent(f"{l.tasks}/scheduled.json"),
     ("scheduled", "tasks/scheduled.json", False)),
    (lambda l: FileModifiedEvent(f"{l.tasks}/completed.json"), None),
    (lambda l: FileCreatedEvent(f"{l.cancel_requests}/t-1"), ("cancel", "tasks/cancel/t-1", False)),
    (lambda l: FileDeletedEvent(f"{l.cancel_requests}/t-1"), None),
    (lambda l: FileCreatedEvent(f"{l.inbox}/sub/a.json"), None),  # not recursive
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
