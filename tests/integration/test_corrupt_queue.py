"""A queue.json that cannot be parsed is never overwritten; bad entries in a good one are
moved to failed.json as invalid while the rest runs."""

from pathlib import Path

from helpers import (
    append_to_queue,
    drop,
    holds,
    record_of,
    records,
    status_json,
    wait_for,
    write_bytes_atomic,
)

TRUNCATED = b'{"list": [{"prompt": "x"'


def test_truncated_queue_is_left_alone_until_fixed(root: Path, daemon) -> None:
    daemon.start()
    queue = root / "tasks" / "queue.json"
    write_bytes_atomic(queue, TRUNCATED)
    drop(root, "waiting.json", {"prompt": "wait for the fix", "id": "from-inbox"})

    def untouched() -> bool:
        return queue.read_bytes() == TRUNCATED and (root / "inbox" / "waiting.json").exists()

    wait_for(lambda: "queue.json cannot be parsed" in daemon.output(),
             message="the daemon saw the damaged queue.json")
    holds(untouched, 1.0, message="queue.json bytes unchanged and the inbox file waiting")
    assert not records(root, "completed") and not records(root, "failed")
    assert status_json(root)["daemon"]["alive"] is True

    # the fix: a valid queue.json with one task of its own
    write_bytes_atomic(queue, b'{"list": [{"prompt": "from the fixed queue", "id": "fixed"}]}')
    for task_id in ("fixed", "from-inbox"):
        record = wait_for(lambda t=task_id: record_of(root, t), message=f"{task_id} archived")
        assert record["status"] == "success", daemon.output()
    assert not (root / "inbox" / "waiting.json").exists()
    assert not (root / "inbox" / "rejected").exists() or not any(
        (root / "inbox" / "rejected").iterdir())


def test_invalid_entries_go_to_failed_and_the_rest_runs(root: Path, daemon) -> None:
    daemon.start()
    append_to_queue(root,
                    {"prompt": "fine", "id": "ok-1", "extra": {"kept": True}},
                    {"id": "no-prompt"},
                    {"prompt": "bad id entry", "id": "bad id!"},
                    {"prompt": "written by another agent without an id"})

    ok = wait_for(lambda: record_of(root, "ok-1"), message="ok-1 archived")
    assert ok["status"] == "success" and ok["extra"] == {"kept": True}
    no_prompt = wait_for(lambda: record_of(root, "no-prompt"), message="no-prompt archived")
    assert no_prompt["status"] == "failed" and no_prompt["outcome"] == "invalid"
    assert "prompt" in no_prompt["error"]

    def by_prompt(which: str, prompt: str) -> list[dict]:
        return [r for r in records(root, which) if r.get("prompt") == prompt]

    bad_id = wait_for(lambda: by_prompt("failed", "bad id entry"), message="bad id archived")
    assert len(bad_id) == 1 and bad_id[0]["outcome"] == "invalid"
    assert bad_id[0]["id"] and bad_id[0]["id"] != "bad id!", "a usable id must be generated"
    no_id = wait_for(lambda: by_prompt("completed", "written by another agent without an id"),
                     message="the entry without an id ran")
    assert len(no_id) == 1 and no_id[0]["status"] == "success"
    assert isinstance(no_id[0]["id"], str) and no_id[0]["id"]
    assert {r["outcome"] for r in records(root, "failed")} == {"invalid"}
    assert len(records(root, "failed")) == 2 and len(records(root, "completed")) == 2
