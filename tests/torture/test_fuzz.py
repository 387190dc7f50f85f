"""Fuzzed input against one live daemon: arbitrary bytes and JSON as inbox files and as
queue.json entries, under odd names. The daemon never crashes or hangs, every bad input
is rejected with a reason, good inputs mixed in all complete, and nothing outside the
root is read, moved or deleted."""

from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest
from helpers import (
    DaemonProcess,
    append_to_queue,
    queue_tasks,
    read_json,
    record_of,
    records,
    status_json,
    wait_for,
    write_settings,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.torture.invariants import assert_no_corrupt_json, size

FIELDS = ["id", "prompt", "name", "role", "timeout", "priority", "maxRetries", "model",
          "maxTurns", "allowedTools", "autoApprove", "list", "createdAt", "scheduled"]
scalars = (st.none() | st.booleans() | st.integers(-1000, 10**6)
           | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=30))
json_values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.sampled_from(FIELDS) | st.text(max_size=8),
                                             inner, max_size=5), max_leaves=12)
# printable names with spaces, unicode, newlines and leading dashes (not hidden, not .tmp)
names = st.text(st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="/\\")
                | st.sampled_from(["\n", " ", "-", "é", "中"]), min_size=1, max_size=40)
contents = st.one_of(
    st.binary(max_size=200).map(lambda raw: ("bytes", raw)),
    json_values.map(lambda value: ("json", json.dumps(value).encode())),
    st.just(("good", b"")),
)
counter = itertools.count()


def snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for p in folder.rglob("*")
            if p.is_file()}


@pytest.fixture
def outside(tmp_path: Path) -> Path:
    folder = tmp_path / "outside"
    folder.mkdir()
    (folder / "task.json").write_text('{"id": "outside", "prompt": "must never run"}')
    (folder / "notes.log").write_text("keep me")
    return folder


def drop_raw(root: Path, name: str, raw: bytes) -> Path:
    temp = root / "inbox" / f".fuzz-{next(counter)}.tmp"
    temp.write_bytes(raw)
    path = root / "inbox" / name
    os.replace(temp, path)
    return path


def rejection_of(root: Path, name: str) -> dict | None:
    return read_json(root / "inbox" / "rejected" / f"{name}.error.json")


def test_fuzzed_inbox_files(root: Path, tmp_path: Path, quick_agent: Path, outside: Path):
    write_settings(root, f'[agent]\ncommand = "{quick_agent}"\n'
                         "[queue]\nhigh_watermark = 100000\nlow_watermark = 99999\n")
    before = snapshot(outside)
    daemon = DaemonProcess(root).start()
    good: list[str] = []

    @settings(max_examples=size(40, 400), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(st.tuples(names, contents), min_size=1, max_size=4))
    def check(files):
        dropped = []
        for name, (kind, raw) in files:
            number = next(counter)
            name = f"f{number}-{name}.json".replace("\x00", "")
            if kind == "good":
                task_id = f"good-{number}"
                raw = json.dumps({"id": task_id, "prompt": f"fine {number}"}).encode()
                good.append(task_id)
            dropped.append((drop_raw(root, name, raw), kind))
        for path, kind in dropped:
            wait_for(lambda path=path: not path.exists(), timeout=10,
                     message=f"{path.name!r} admitted or rejected")
            report = rejection_of(root, path.name)
            if kind == "good":
                assert report is None, report
            elif report is not None:
                assert report["errors"] and all(e["reason"] for e in report["errors"])
                assert (root / "inbox" / "rejected" / path.name).exists()
        assert daemon.process.poll() is None

    try:
        check()
        wait_for(lambda: all(record_of(root, i) for i in good), timeout=60,
                 message="every good task done")
        assert all(record_of(root, i)["status"] == "success" for i in good)
        assert status_json(root)["daemon"]["alive"]
    finally:
        daemon.stop()
    assert snapshot(outside) == before
    assert record_of(root, "outside") is None
    assert_no_corrupt_json(root)


def test_fuzzed_queue_entries(root: Path, quick_agent: Path):
    write_settings(root, f'[agent]\ncommand = "{quick_agent}"\n'
                         "[queue]\nhigh_watermark = 100000\nlow_watermark = 99999\n")
    daemon = DaemonProcess(root).start()
    appended = 0

    def archived() -> int:
        return len(records(root, "completed")) + len(records(root, "failed"))

    @settings(max_examples=size(25, 250), deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(st.lists(json_values, min_size=1, max_size=4))
    def check(entries):
        nonlocal appended
        for entry in entries:
            if isinstance(entry, dict) and "id" in entry:
                entry["id"] = f"q-{next(counter)}"  # ids unique across examples
            if isinstance(entry, dict):
                entry.pop("notBefore", None)
        append_to_queue(root, *entries)
        appended += len(entries)
        wait_for(lambda: archived() + len(queue_tasks(root)) == appended
                 and all(isinstance(t, dict) and t.get("id") for t in queue_tasks(root)),
                 timeout=10, message="every entry queued with an id or archived")
        assert daemon.process.poll() is None

    try:
        check()
        wait_for(lambda: archived() == appended, timeout=60, message="the queue drained")
        for record in records(root, "failed"):
            assert record["error"], record  # every refusal says why
        assert status_json(root)["daemon"]["alive"]
    finally:
        daemon.stop()
    assert_no_corrupt_json(root)


def special_inputs(root: Path, outside: Path) -> list[str]:
    """Symlinks out of the root, to a folder, dangling; a FIFO and a folder named *.json."""
    inbox = root / "inbox"
    (inbox / "to-outside.json").symlink_to(outside / "task.json")
    (inbox / "to-folder.json").symlink_to(outside)
    (inbox / "dangling.json").symlink_to(outside / "missing.json")
    os.mkfifo(inbox / "fifo.json")
    (inbox / "folder.json").mkdir()
    return ["to-outside.json", "to-folder.json", "dangling.json", "fifo.json", "folder.json"]


def test_symlinks_fifos_and_folders_in_the_inbox(root: Path, quick_agent: Path,
                                                 outside: Path):
    write_settings(root, f'[agent]\ncommand = "{quick_agent}"\n')
    (root / "inbox").mkdir(exist_ok=True)
    before = snapshot(outside)
    odd = special_inputs(root, outside)
    daemon = DaemonProcess(root).start()
    try:
        drop_raw(root, "after.json", b'{"id": "after", "prompt": "fine"}')
        wait_for(lambda: record_of(root, "after"), message="a good file beside them")
        for name in odd:
            wait_for(lambda name=name: rejection_of(root, name), timeout=5,
                     message=f"{name} rejected with a reason")
        assert daemon.process.poll() is None
    finally:
        daemon.stop()
    assert snapshot(outside) == before
    assert record_of(root, "outside") is None


@pytest.mark.parametrize("name, raw", [
    ("nul.json", b'{"id": "nul", "prompt": "p", "model": "a\\u0000b"}'),                # D1
    ("deep.json", b'{"id": "deep", "prompt": "p", "x": ' + b"[" * 600 + b"]" * 600 + b"}"),  # D2
    ("x" * 250 + ".json", b"not json"),                                                    # D15
    ("huge-timeout.json", b'{"id": "huge", "prompt": "p", "timeout": 10000000000000000}'),
    ("huge-retries.json", b'{"id": "retries", "prompt": "p", "maxRetries": 10000000}'),
])
def test_extreme_inputs_do_not_wedge_the_daemon(root: Path, quick_agent: Path, name, raw):
    write_settings(root, f'[agent]\ncommand = "{quick_agent}"\n')
    daemon = DaemonProcess(root).start()
    try:
        drop_raw(root, name, raw)
        drop_raw(root, "after.json", b'{"id": "after", "prompt": "fine"}')
        wait_for(lambda: record_of(root, "after"), timeout=6, message="work goes on")
        wait_for(lambda: not (root / "inbox" / name).exists(), timeout=5,
                 message="the extreme file handled")
        task_id = json.loads(raw).get("id") if raw.startswith(b"{") and len(raw) < 200 else None
        if task_id:  # not lost: a record, or a rejection with a reason
            wait_for(lambda: record_of(root, task_id) or rejection_of(root, name), timeout=5,
                     message=f"{task_id} archived or rejected")
        assert daemon.process.poll() is None
    finally:
        daemon.stop()
