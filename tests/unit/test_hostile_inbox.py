"""Issue 9 (D2 D9 D11 D15): odd things in inbox/ and in the state folders are rejected or
refused with a reason; nothing raises, blocks, or is followed out of the root."""

import json
import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from loguru import logger

from pipeline.cli.status import daemon_status
from pipeline.domain.settings import Settings
from pipeline.stages.admit import Admission, Admitter, inbox_files
from pipeline.stages.inbox_entry import report_name
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout, StateFolderLinked
from pipeline.storage.queue import TaskQueue

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "root")
    layout.ensure()
    return layout


def admitter(layout: Layout, **settings: object) -> Admitter:
    values = Settings(**settings)  # type: ignore[arg-type]
    return Admitter(layout, values, TaskQueue(layout, values))


def admit_all(layout: Layout, **settings: object) -> dict[str, Admission]:
    admit = admitter(layout, **settings)
    return {path.name: admit.admit_file(path, NOW, closed=True) for path in inbox_files(layout)}


def report(layout: Layout, name: str) -> dict:
    return json.loads((layout.rejected / f"{name}.error.json").read_text())


def test_things_that_are_not_files_are_rejected_unopened(layout: Layout, tmp_path: Path) -> None:
    inbox = layout.inbox
    os.mkfifo(inbox / "fifo.json")                      # opening it would block the loop
    (inbox / "folder.json").mkdir()
    os.symlink(tmp_path / "nowhere", inbox / "dangling.json")
    outside = tmp_path / "secret.json"
    outside.write_text(json.dumps({"prompt": "read me"}))
    os.symlink(outside, inbox / "outside.json")
    os.symlink(inbox / "loop.json", inbox / "loop.json")  # ELOOP for whoever follows it

    results = admit_all(layout)

    assert set(results.values()) == {Admission.REJECTED}, results
    assert len(results) == 5
    reasons = {name: report(layout, name)["errors"][0]["reason"] for name in results}
    assert "FIFO" in reasons["fifo.json"]
    assert reasons["folder.json"] == "is a directory"
    for name in ("dangling.json", "outside.json", "loop.json"):
        assert "symbolic link" in reasons[name]
    assert outside.read_text() == json.dumps({"prompt": "read me"})  # untouched
    assert TaskQueue(layout, Settings()).tasks() == []


def test_a_large_file_is_rejected_before_it_is_read(layout: Layout) -> None:
    (layout.inbox / "big.json").write_bytes(b" " * 2000 + b'{"prompt": "p"}')
    results = admit_all(layout, max_inbox_file_bytes=1000)
    assert results == {"big.json": Admission.REJECTED}
    assert "limits.inbox_file_bytes" in report(layout, "big.json")["errors"][0]["reason"]


def test_a_huge_prompt_is_rejected(layout: Layout) -> None:
    (layout.inbox / "long.json").write_text(json.dumps({"prompt": "x" * 600}))
    assert admit_all(layout, max_prompt_bytes=500) == {"long.json": Admission.REJECTED}
    assert report(layout, "long.json")["errors"][0]["field"] == "prompt"


def test_deep_json_and_odd_names_are_rejected_with_a_report(layout: Layout) -> None:
    (layout.inbox / "deep.json").write_bytes(b'{"prompt": "p", "x": ' + b"[" * 300 + b"]" * 300
                                             + b"}")
    odd = os.fsdecode(b"caf\xe9-\xff.json")  # not UTF-8: the report still has to be written
    (layout.inbox / odd).write_bytes(b"\x00\xff not json")
    long_name = "n" * 240 + ".json"           # <name>.error.json would exceed 255 bytes
    (layout.inbox / long_name).write_bytes(b"nope")

    results = admit_all(layout)

    assert set(results.values()) == {Admission.REJECTED}, results
    assert "nested more than" in report(layout, "deep.json")["errors"][0]["reason"]
    odd_report = json.loads((layout.rejected / report_name(odd)).read_text())
    assert odd_report["file"] == "caf\\xe9-\\xff.json"
    assert (layout.rejected / odd).read_bytes() == b"\x00\xff not json"
    assert (layout.rejected / long_name).read_bytes() == b"nope"
    short = report_name(long_name)
    assert len(short.encode()) <= 255 and short.endswith(".error.json")
    assert json.loads((layout.rejected / short).read_text())["file"] == long_name


def test_a_list_past_the_watermark_waits(layout: Layout) -> None:
    queue = TaskQueue(layout, Settings())
    queue.enqueue([{"prompt": f"p{i}"} for i in range(6)], NOW)
    big = {"list": [{"prompt": f"l{i}"} for i in range(20)]}
    (layout.inbox / "list.json").write_text(json.dumps(big))
    assert admit_all(layout) == {"list.json": Admission.WAITING}
    assert len(queue.tasks()) == 6
    high = {"list": [{"prompt": f"h{i}", "priority": "high"} for i in range(20)]}
    (layout.inbox / "list.json").write_text(json.dumps(high))
    assert admit_all(layout) == {"list.json": Admission.ADMITTED}  # high bypasses
    too_long = {"list": [{"prompt": "p"}] * 1001}
    (layout.inbox / "many.json").write_text(json.dumps(too_long))
    assert admit_all(layout)["many.json"] is Admission.REJECTED


def test_symlinked_state_folders_are_refused(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep").write_text("mine")
    layout = Layout(tmp_path / "root")
    layout.ensure()
    os.rmdir(layout.cancel_requests)
    os.symlink(elsewhere, layout.cancel_requests)
    with pytest.raises(StateFolderLinked, match="tasks/cancel is a symbolic link"):
        layout.ensure()
    assert (elsewhere / "keep").read_text() == "mine"


def test_a_folder_link_or_fifo_where_queue_json_belongs_is_damage(layout: Layout,
                                                                   tmp_path: Path) -> None:
    queue = JsonFile(layout.queue, "list")
    layout.queue.mkdir()
    with pytest.raises(CorruptFile, match="not a regular file"):
        queue.load()
    layout.queue.rmdir()
    outside = tmp_path / "outside.json"
    outside.write_text('{"list": [{"prompt": "not yours"}]}')
    os.symlink(outside, layout.queue)
    with pytest.raises(CorruptFile, match="not a regular file"):  # never read through a link
        queue.load()
    layout.queue.unlink()
    os.mkfifo(layout.queue)
    with pytest.raises(CorruptFile, match="not a regular file"):  # and never blocks on a FIFO
        queue.load()


def test_a_beating_daemon_whose_loop_does_not_tick_is_not_alive() -> None:
    beat = "2026-03-01T12:00:00+00:00"
    base = {"pid": os.getpid(), "heartbeatAt": beat}
    assert daemon_status(base, Settings(), NOW)["alive"] is True   # an older runner's state
    fresh = daemon_status({**base, "tickAt": beat}, Settings(), NOW)
    assert fresh["alive"] is True and fresh["stalled"] is False
    stale = daemon_status({**base, "tickAt": "2026-03-01T11:58:00+00:00"}, Settings(), NOW)
    assert stale["alive"] is False and stale["stalled"] is True


def test_inbox_rejected_being_a_file_is_reported_once(layout: Layout) -> None:
    layout.rejected.write_text("not a folder")
    (layout.inbox / "bad.json").write_bytes(b"nope")
    admit = admitter(layout)
    seen: list[str] = []
    sink = logger.add(lambda message: seen.append(str(message)), level="ERROR")
    try:
        for _ in range(3):
            assert admit.admit_file(layout.inbox / "bad.json", NOW, True) is Admission.DEFERRED
    finally:
        logger.remove(sink)
    assert len(seen) == 1 and "cannot move rejected inbox files aside" in seen[0]
    assert (layout.inbox / "bad.json").read_bytes() == b"nope"  # kept, nothing lost


def test_folders_swapped_for_links_while_running_are_not_followed(layout: Layout,
                                                                  tmp_path: Path) -> None:
    from pipeline.daemon.housekeeping import prune_task_logs
    from pipeline.daemon.recovery import cancel_requested
    from pipeline.stages.cancel import pending_requests

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "task-1").write_text("not a request")
    old = elsewhere / "old.log"
    old.write_text("someone else's log")
    os.utime(old, (0, 0))
    for folder in (layout.cancel_requests, layout.task_logs):
        folder.rmdir()
        os.symlink(elsewhere, folder)

    assert pending_requests(layout) == []
    assert prune_task_logs(layout, retention_days=1, now=datetime(2026, 11, 25, tzinfo=UTC)) == 0
    assert old.exists() and (elsewhere / "task-1").exists()
    os.unlink(layout.cancel_requests)
    (layout.cancel_requests / "task-2").mkdir(parents=True)
    assert not cancel_requested(layout, "task-2")  # a folder is not a request
