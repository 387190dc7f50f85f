"""Bad inbox files move to inbox/rejected/ untouched, with a report naming the field."""

import json
from pathlib import Path

from helpers import drop, parse_time, queue_ids, record_of, records, status_json, wait_for

FILE_LEVEL = None  # the whole file is unusable: no task field to name


def bad_files(tmp_path: Path) -> dict[str, tuple[bytes, str | None]]:
    """name -> (bytes, the field the report must name)."""

    def task(**fields: object) -> bytes:
        return json.dumps({"prompt": "do it", **fields}).encode()

    good_list_with_one_bad = json.dumps({"list": [
        {"prompt": "fine", "id": "in-bad-list-1"},
        {"prompt": 3, "id": "in-bad-list-2"},
        {"prompt": "fine too", "id": "in-bad-list-3"},
    ]}).encode()
    return {
        "not-json.json": (b'{"prompt": "x",', FILE_LEVEL),
        "empty.json": (b"", FILE_LEVEL),
        "whitespace.json": (b"  \n\t \n", FILE_LEVEL),
        "array.json": (b'[{"prompt": "x"}]', FILE_LEVEL),
        "number.json": (b"42", FILE_LEVEL),
        "no-prompt.json": (json.dumps({"id": "no-prompt"}).encode(), "prompt"),
        "empty-prompt.json": (json.dumps({"prompt": ""}).encode(), "prompt"),
        "prompt-number.json": (json.dumps({"prompt": 12}).encode(), "prompt"),
        "bad-id.json": (task(id="has space/slash"), "id"),
        "long-id.json": (task(id="a" * 129), "id"),
        "relative-ws.json": (task(workspace="some/relative/dir"), "workspace"),
        "missing-ws.json": (task(workspace=str(tmp_path / "does-not-exist")), "workspace"),
        "timeout-zero.json": (task(timeout=0), "timeout"),
        "timeout-string.json": (task(timeout="10"), "timeout"),
        "approve-yes.json": (task(autoApprove="yes"), "autoApprove"),
        "tools-string.json": (task(allowedTools="Bash"), "allowedTools"),
        "priority-urgent.json": (task(priority="urgent"), "priority"),
        "retries-negative.json": (task(maxRetries=-1), "maxRetries"),
        "list-one-bad.json": (good_list_with_one_bad, "prompt"),
        "duplicate.json": (task(id="done-before"), "id"),
    }


def rejected(root: Path) -> Path:
    return root / "inbox" / "rejected"


def test_bad_files_are_rejected_whole_and_the_daemon_goes_on(root: Path, daemon,
                                                             tmp_path: Path) -> None:
    daemon.start()
    drop(root, "first.json", {"prompt": "first", "id": "done-before"})
    wait_for(lambda: record_of(root, "done-before"), message="done-before archived")

    bad = bad_files(tmp_path)
    assert len(bad) == 20
    for name, (payload, _) in bad.items():
        drop(root, name, raw=payload)
    drop(root, "good.json", {"prompt": "good one", "id": "good-alongside"})

    good = wait_for(lambda: record_of(root, "good-alongside"), message="the good file ran")
    assert good["status"] == "success"
    # the report is written after the file is moved: once it is there, both are
    wait_for(lambda: all((rejected(root) / f"{name}.error.json").exists() for name in bad),
             timeout=10, message="every bad file in rejected/, with its report")
    for name, (payload, field) in bad.items():
        assert not (root / "inbox" / name).exists(), name
        assert (rejected(root) / name).read_bytes() == payload, f"{name}: bytes changed"
        report = json.loads((rejected(root) / f"{name}.error.json").read_text())
        assert report["file"] == name
        parse_time(report["rejectedAt"])
        assert report["errors"], name
        for error in report["errors"]:
            assert {"index", "field", "reason"} <= error.keys(), error
            assert isinstance(error["reason"], str) and error["reason"], error
        if field is not None:
            assert field in {e["field"] for e in report["errors"]}, (name, report["errors"])

    # the list file: the bad entry is named by its index; nothing of the file was admitted
    report = json.loads((rejected(root) / "list-one-bad.json.error.json").read_text())
    assert [(e["index"], e["field"]) for e in report["errors"]] == [(1, "prompt")]
    for task_id in ("in-bad-list-1", "in-bad-list-2", "in-bad-list-3", "no-prompt"):
        assert task_id not in queue_ids(root) and record_of(root, task_id) is None
    # the duplicate did not run a second time
    assert [r["id"] for r in records(root, "completed")] == ["done-before", "good-alongside"]
    assert not records(root, "failed")
    assert status_json(root)["daemon"]["alive"] is True
    assert daemon.process.poll() is None


def test_a_taken_name_in_rejected_gets_a_time_suffix(root: Path, daemon) -> None:
    daemon.start()
    drop(root, "twice.json", raw=b"not json, first")
    wait_for(lambda: (rejected(root) / "twice.json.error.json").exists(), message="first rejected")
    drop(root, "twice.json", raw=b"not json, second")
    wait_for(lambda: len(list(rejected(root).glob("[!.]*.error.json"))) == 2,
             message="second rejected, with its report")

    assert (rejected(root) / "twice.json").read_bytes() == b"not json, first"
    others = [p for p in rejected(root).iterdir()
              if p.name not in {"twice.json", "twice.json.error.json"}
              and not p.name.startswith(".")]  # no temp file is left, but one may be going
    moved = [p for p in others if not p.name.endswith(".error.json")]
    assert len(moved) == 1
    assert moved[0].read_bytes() == b"not json, second"
    assert moved[0].name.startswith("twice") and any(c.isdigit() for c in moved[0].name)
    report = json.loads((moved[0].parent / f"{moved[0].name}.error.json").read_text())
    assert report["file"] == "twice.json"
    assert not (root / "inbox" / "twice.json").exists()
    assert status_json(root)["daemon"]["alive"] is True
