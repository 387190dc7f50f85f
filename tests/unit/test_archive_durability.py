"""The archive never duplicates a record when one part fails, and a damaged list file
does not stop the pipeline (D6, D14)."""

from datetime import UTC, datetime

import orjson
import pytest

from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.stages.archive import Archive
from pipeline.storage import jsonfile
from pipeline.storage.events import EventLog
from pipeline.storage.layout import Layout

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
RAW = {"id": "t1", "prompt": "x", "startedAt": "2026-11-25T11:59:00+00:00", "attempt": 1}
TASK = Attempt.from_dict(RAW)


@pytest.fixture
def archive(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    return Archive(layout, Settings(), EventLog(layout.events, lambda: NOW))


def history_lines(archive):
    return [line for path in archive.history.folder.glob("*.jsonl")
            for line in path.read_text().splitlines()]


def test_a_failed_history_append_is_retried_alone(archive, monkeypatch):
    real = jsonfile.append_text
    failures = iter([OSError(28, "No space left on device")] * 3)

    def flaky_append(path, line, sync=True):
        error = next(failures, None)
        if error:
            raise error
        real(path, line, sync)

    monkeypatch.setattr(jsonfile, "append_text", flaky_append)
    for _ in range(3):
        with pytest.raises(OSError):
            archive.record_end(TASK, Outcome.SUCCESS, NOW, None, attempts=1)
    archive.record_end(TASK, Outcome.SUCCESS, NOW, None, attempts=1)

    assert [r["id"] for r in archive.completed.items()] == ["t1"]
    assert len(history_lines(archive)) == 1


def test_a_damaged_list_keeps_its_bytes_and_the_record_waits_beside_it(archive):
    damaged = b'{"list": [{"id": "old"'
    archive.completed.path.write_bytes(damaged)

    record = archive.record_end(TASK, Outcome.SUCCESS, NOW, None, attempts=1)

    assert archive.completed.path.read_bytes() == damaged
    assert archive.holds_run("t1", RAW["startedAt"], NOW)
    assert [orjson.loads(line)["id"] for line in history_lines(archive)] == ["t1"]
    assert record.id == "t1"

    archive.completed.path.write_bytes(b'{"list": [{"id": "old"}]}')  # someone fixes it
    later = Attempt.from_dict({**RAW, "id": "t2", "startedAt": "2026-11-25T12:00:00+00:00"})
    archive.record_end(later, Outcome.SUCCESS, NOW, None, attempts=1)

    assert [r["id"] for r in archive.completed.items()] == ["old", "t1", "t2"]
    assert not archive.pending.path.exists()


def test_failed_records_wait_apart_from_completed_ones(archive):
    archive.failed.path.write_bytes(b"not json")
    archive.record_end(TASK, Outcome.ERROR, NOW, "boom", attempts=1)
    ok = Attempt.from_dict({**RAW, "id": "t2"})
    archive.record_end(ok, Outcome.SUCCESS, NOW, None, attempts=1)

    assert [r["id"] for r in archive.completed.items()] == ["t2"]
    assert [r.id for r in archive.pending.records()] == ["t1"]


def test_a_crash_between_history_and_list_is_completed_at_start(archive, monkeypatch):
    def crash(*_args):
        raise KeyboardInterrupt  # the process dies here

    with monkeypatch.context() as patch:
        patch.setattr(archive, "_add_to_list", crash)
        with pytest.raises(KeyboardInterrupt):
            archive.record_end(TASK, Outcome.SUCCESS, NOW, None, attempts=1)
    restarted = Archive(archive.layout, Settings(), archive.events)

    assert restarted.holds_run("t1", RAW["startedAt"], NOW)
    assert [r["id"] for r in restarted.completed.items()] == ["t1"]
    assert len(history_lines(restarted)) == 1


def test_a_failed_clear_of_running_json_does_not_archive_twice(tmp_path, monkeypatch):
    from pipeline.agent.verdict import Verdict
    from pipeline.daemon.loop import Loop, Slot

    layout = Layout(tmp_path)
    layout.ensure()
    runner = Loop(layout, Settings(), lambda _signal: None,
                  events=EventLog(layout.events, lambda: NOW))
    runner.slot = Slot(TASK)
    real_save, failures = runner.running_file.save, [OSError(28, "No space left")]

    def flaky_save(data, **options):
        if failures:
            raise failures.pop()
        real_save(data, **options)

    monkeypatch.setattr(runner.running_file, "save", flaky_save)
    runner._complete(Verdict(Outcome.SUCCESS), NOW)
    assert runner.slot.verdict is not None  # kept: retried on the next tick
    runner._complete(runner.slot.verdict, NOW)

    assert runner.entry is None
    assert [r["id"] for r in runner.archive.completed.items()] == ["t1"]
    assert len(history_lines(runner.archive)) == 1


def test_an_append_that_cannot_be_made_durable_is_taken_back(tmp_path, monkeypatch):
    path = tmp_path / "h.jsonl"
    jsonfile.append_text(path, "first")

    def no_fsync(_fd):
        raise OSError(28, "No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(jsonfile.os, "fsync", no_fsync)
        with pytest.raises(OSError):
            jsonfile.append_text(path, "second")
    jsonfile.append_text(path, "second")
    assert path.read_text().splitlines() == ["first", "second"]
