"""Cancelling queued work: every entry leaves the queue only with a record."""

from __future__ import annotations

from datetime import UTC, datetime

from pipeline.domain.settings import Settings
from pipeline.stages.archive import Archive
from pipeline.stages.cancel import cancel_all, cancel_queued
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import JsonFile, dumps, write_atomic
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def setup(tmp_path, entries):
    layout = Layout(tmp_path)
    layout.ensure()
    write_atomic(layout.queue, dumps({"list": entries}))
    settings = Settings()
    archive = Archive(layout, settings, EventLog(layout.events, lambda: NOW))
    return layout, TaskQueue(layout, settings), archive


def test_cancel_all_records_every_entry_even_without_an_id(tmp_path):
    layout, queue, archive = setup(tmp_path, [
        {"id": "a", "prompt": "x"}, {"prompt": "no id"}, {"id": "bad id!", "prompt": "y"}, 7])
    taken = cancel_all(queue, archive, NOW)
    assert len(taken) == 4 and queue.tasks() == []
    records = JsonFile(layout.failed, "list").items()
    assert len(records) == 4 and {r["outcome"] for r in records} == {"cancelled"}
    assert records[0]["id"] == "a" and records[1]["prompt"] == "no id"
    assert records[2]["id"] != "bad id!" and records[3]["value"] == 7
    assert len({r["id"] for r in records}) == 4


def test_cancel_queued_takes_only_that_task(tmp_path):
    layout, queue, archive = setup(tmp_path, [{"id": "a", "prompt": "x"},
                                              {"id": "b", "prompt": "y"}])
    assert cancel_queued(queue, archive, "b", NOW).id == "b"
    assert cancel_queued(queue, archive, "zzz", NOW) is None
    assert [t.id for t in queue.tasks()] == ["a"]
    assert [r["id"] for r in JsonFile(layout.failed, "list").items()] == ["b"]


def test_cancel_of_an_entry_with_an_id_no_task_may_have_archives_it(tmp_path):
    """An agent wrote `"id": "a b"` while the daemon was down: `cancel "a b"` still takes
    it out and archives it (under a generated id, its prompt kept), never a traceback."""
    layout, queue, archive = setup(tmp_path, [{"id": "a b", "prompt": "odd"},
                                              {"id": "ok", "prompt": "fine"}])
    taken = cancel_queued(queue, archive, "a b", NOW)
    assert taken is not None and taken.id != "a b" and taken.prompt == "odd"
    assert [t.id for t in queue.tasks()] == ["ok"]
    [record] = JsonFile(layout.failed, "list").items()
    assert record["outcome"] == "cancelled" and record["prompt"] == "odd"


def test_queue_check_reads_no_task_and_says_when_the_queue_is_damaged(tmp_path, capsys):
    from pipeline.cli.main import main

    layout, _queue, _archive = setup(tmp_path, [{"id": "a", "prompt": "x"}, "not a task"])
    assert main(["--root", str(tmp_path), "queue", "check", "--json"]) == 0
    assert '"length":2' in capsys.readouterr().out  # every entry counts, as the contract says
    layout.queue.write_text('{"list": [')
    assert main(["--root", str(tmp_path), "queue", "check"]) == 1
    assert "queue.json cannot be read: level unknown (not valid JSON" in capsys.readouterr().err
