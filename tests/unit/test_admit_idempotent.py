"""A crash between enqueueing an inbox file and deleting it must not duplicate its
tasks, nor move the file to rejected/ as a duplicate (D5)."""

from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.stages.admit import Admission, Admitter
from pipeline.stages.archive import Archive
from pipeline.storage.events import EventLog
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@pytest.fixture
def admitter(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    settings = Settings()
    return Admitter(layout, settings, TaskQueue(layout, settings))


def crash_before_unlink(admitter, path, monkeypatch):
    """Admit `path` as a daemon killed right after the queue write would."""
    with monkeypatch.context() as patch:
        patch.setattr(Path, "unlink", lambda self, missing_ok=False: None)
        assert admitter.admit_file(path, NOW, closed=True) is Admission.ADMITTED
    assert path.exists()


@pytest.mark.parametrize("content", [
    {"prompt": "no id"},
    {"list": [{"prompt": "a"}, {"prompt": "b"}]},
    {"id": "given", "prompt": "with an id"},
])
def test_admitting_a_file_again_after_a_crash_admits_nothing_new(admitter, monkeypatch,
                                                                   content):
    path = admitter.layout.inbox / "t.json"
    path.write_bytes(orjson.dumps(content))
    crash_before_unlink(admitter, path, monkeypatch)
    first = admitter.queue.tasks()

    assert admitter.admit_file(path, NOW, closed=True) is Admission.ADMITTED

    assert admitter.queue.tasks() == first
    assert not path.exists()
    assert not admitter.layout.rejected.exists() or not any(admitter.layout.rejected.iterdir())


def test_a_file_whose_task_already_ran_is_recognised(admitter, monkeypatch):
    path = admitter.layout.inbox / "t.json"
    path.write_bytes(b'{"prompt": "done already"}')
    crash_before_unlink(admitter, path, monkeypatch)
    task = admitter.queue.tasks()[0]
    admitter.queue.remove(task.id, NOW)
    events = EventLog(admitter.layout.events, lambda: NOW)
    Archive(admitter.layout, admitter.settings, events).record_end(task, Outcome.SUCCESS, NOW,
                                                                   None, 1)

    assert admitter.admit_file(path, NOW, closed=True) is Admission.ADMITTED
    assert admitter.queue.tasks() == []


def test_a_real_duplicate_is_still_rejected(admitter):
    admitter.queue.enqueue([{"id": "x", "prompt": "first"}], NOW)
    path = admitter.layout.inbox / "t.json"
    path.write_bytes(b'{"id": "x", "prompt": "something else"}')

    assert admitter.admit_file(path, NOW, closed=True) is Admission.REJECTED
    assert [t.prompt for t in admitter.queue.tasks()] == ["first"]
