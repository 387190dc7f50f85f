"""Inbox files are picked up by the watcher at once, not by the 10 s fallback poll."""

import os
import time
from pathlib import Path

from helpers import drop, parse_time, queue_ids, record_of, wait_for, write_settings

LIMIT = 1.0  # generous: with poll_interval = 10 a broken watcher takes about 10 s
QUICK = 0.5  # a file whose writer is known to be done must not wait the 1 s stable time


def started_after(root: Path, task_id: str, dropped: float) -> float:
    record = wait_for(lambda: record_of(root, task_id), timeout=20, message=f"{task_id} done")
    assert record["status"] == "success", record
    return parse_time(record["startedAt"]) - dropped


def test_pickup_latency_of_dropped_files(root: Path, daemon) -> None:
    write_settings(root, "[runner]\npoll_interval = 10")
    daemon.start()
    latencies = []
    for number in range(10):
        dropped = drop(root, f"job-{number}.json", {"prompt": "hi", "id": f"lat-{number}"})
        latencies.append(started_after(root, f"lat-{number}", dropped))
    assert all(latency < LIMIT for latency in latencies), latencies


def test_written_in_place_is_picked_up_quickly(root: Path, daemon) -> None:
    """open/write/close with no rename: the close event admits it, not the 1 s stable time."""
    daemon.start()
    dropped = time.time()
    with open(root / "inbox" / "inplace.json", "w", encoding="utf-8") as handle:
        handle.write('{"prompt": "written in place", ')
        handle.flush()
        handle.write('"id": "in-place"}')
    assert started_after(root, "in-place", dropped) < QUICK


def test_moved_in_from_another_folder_is_picked_up_quickly(root: Path, daemon) -> None:
    """`mv /elsewhere/job.json inbox/`: the rename says the writer is done."""
    daemon.start()
    outside = root / "outside"
    outside.mkdir()
    (outside / "moved.json").write_text('{"prompt": "moved in", "id": "moved-in"}')
    dropped = time.time()
    os.rename(outside / "moved.json", root / "inbox" / "moved.json")
    assert started_after(root, "moved-in", dropped) < QUICK


def test_hidden_and_tmp_files_are_ignored(root: Path, daemon) -> None:
    daemon.start()
    inbox = root / "inbox"
    (inbox / ".hidden.json").write_text('{"prompt": "hidden", "id": "hidden-1"}')
    (inbox / "x.json.tmp").write_text('{"prompt": "temp", "id": "temp-1"}')
    # a good file dropped after them is admitted and run, so the inbox has been scanned
    drop(root, "good.json", {"prompt": "good", "id": "good-1"})
    wait_for(lambda: record_of(root, "good-1"), message="good-1 done")
    assert (inbox / ".hidden.json").read_text() == '{"prompt": "hidden", "id": "hidden-1"}'
    assert (inbox / "x.json.tmp").read_text() == '{"prompt": "temp", "id": "temp-1"}'
    assert record_of(root, "hidden-1") is None and record_of(root, "temp-1") is None
    assert not {"hidden-1", "temp-1"} & set(queue_ids(root))
    assert not (inbox / "rejected").exists() or not any((inbox / "rejected").iterdir())
