"""Writers that ignore the rules: the documented guarantees hold - no crash, nothing
overwritten that could not be parsed, no task run twice while it is in running.json,
nothing lost from properly locked writers."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from helpers import (
    append_to_queue,
    drop,
    queue_ids,
    record_of,
    records,
    running_task,
    status_json,
    wait_for,
    write_settings,
)


def runner_log(root: Path) -> str:
    path = root / "logs" / "runner.jsonl"
    return path.read_text(errors="replace") if path.exists() else ""


@pytest.mark.parametrize("damage", [b'{"list": [{"id": "x", "prompt": "tor', b"", b"\x00\xff"])
def test_a_queue_replaced_without_the_lock_is_never_overwritten(root, daemon, damage):
    daemon.start()
    queue = root / "tasks" / "queue.json"
    queue.write_bytes(damage)  # truncated mid-write, emptied, garbage
    drop(root, "waits.json", {"id": "waits", "prompt": "hi"})
    wait_for(lambda: "queue.json cannot be parsed" in runner_log(root),
             message="the daemon saw the damage")
    assert queue.read_bytes() == damage
    assert (root / "inbox" / "waits.json").exists()
    assert daemon.process.poll() is None

    queue.write_text('{"list": []}')  # someone repairs it
    assert wait_for(lambda: record_of(root, "waits"), message="work resumes")["status"] == \
        "success"


def test_a_deleted_running_json_does_not_run_the_task_twice(root, daemon, tmp_path):
    daemon.start()
    runs, release = tmp_path / "runs", tmp_path / "release"
    drop(root, "held.json", {"id": "held", "prompt": f"@append {runs}\n@wait {release}"})
    wait_for(lambda: running_task(root).get("pid"), message="held running")
    (root / "tasks" / "running.json").unlink()
    drop(root, "next.json", {"id": "next", "prompt": "after"})
    wait_for(lambda: "next" in queue_ids(root) or record_of(root, "next"),
             message="the daemon looked after the deletion")
    release.touch()
    wait_for(lambda: record_of(root, "next"), message="next done")
    assert record_of(root, "held")["status"] == "success"
    assert len(runs.read_text().splitlines()) == 1


def test_a_damaged_completed_json_does_not_stall_the_queue(root, daemon):
    daemon.start()
    completed = root / "tasks" / "completed.json"
    completed.write_bytes(b'{"list": [')
    drop(root, "a.json", {"id": "a", "prompt": "one"})
    drop(root, "b.json", {"id": "b", "prompt": "two"})
    pending = root / "tasks" / "pending-records.jsonl"
    wait_for(lambda: pending.exists() and pending.read_text().count("\n") == 2,
             message="both records kept beside the damaged file")
    wait_for(lambda: not running_task(root).get("id"), message="nothing shown running")
    assert completed.read_bytes() == b'{"list": ['
    assert status_json(root)["running"] is None

    completed.write_text('{"list": []}')
    drop(root, "c.json", {"id": "c", "prompt": "three"})
    wait_for(lambda: len(records(root, "completed")) == 3, message="the records moved in")
    assert [r["id"] for r in records(root, "completed")] == ["a", "b", "c"]


def test_locked_writers_racing_the_daemon_lose_nothing(root, daemon, quick_agent):
    write_settings(root, f"[agent]\ncommand = \"{quick_agent}\"\n"
                         "[queue]\nhigh_watermark = 10000\nlow_watermark = 9999\n")
    daemon.start()
    ids = [f"w{writer}-{n}" for writer in range(4) for n in range(15)]

    def writer(number: int) -> None:
        for n in range(15):
            append_to_queue(root, {"id": f"w{number}-{n}", "prompt": "locked"})

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wait_for(lambda: all(record_of(root, i) for i in ids), timeout=60, message="all done")
    assert sorted(r["id"] for r in records(root, "completed")) == sorted(ids)


def test_a_queue_replaced_by_a_directory_does_not_wedge(root, daemon):
    daemon.start()
    queue = root / "tasks" / "queue.json"
    os.unlink(queue) if queue.exists() else None
    queue.mkdir()
    drop(root, "d.json", {"id": "d", "prompt": "hi"})
    wait_for(lambda: "queue.json" in runner_log(root), timeout=5, message="the damage seen")
    queue.rmdir()
    assert wait_for(lambda: record_of(root, "d"), timeout=10, message="work resumes")
    assert daemon.process.poll() is None


def test_a_queue_replaced_by_a_symlink_leaves_its_target_alone(root, daemon, tmp_path):
    daemon.start()
    outside = tmp_path / "outside.json"
    outside.write_text('{"list": []}')
    before = outside.stat().st_mtime_ns
    queue = root / "tasks" / "queue.json"
    queue.unlink(missing_ok=True)
    queue.symlink_to(outside)
    drop(root, "s.json", {"id": "s", "prompt": "hi"})
    wait_for(lambda: record_of(root, "s") or "queue.json cannot be parsed (not a regular file"
             in runner_log(root), timeout=10, message="the daemon looked (and refused the link)")
    assert outside.read_text() == '{"list": []}' and outside.stat().st_mtime_ns == before
