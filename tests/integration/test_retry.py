"""Failed attempts go back to the head of the queue with a growing delay, up to maxRetries."""

import re
from pathlib import Path

from helpers import (
    drop,
    parse_time,
    queue_tasks,
    record_of,
    records,
    task_log,
    wait_for,
    write_settings,
)

HEADER = re.compile(r"attempt (\d+) at (\S+): ")


def attempt_starts(root: Path, task_id: str) -> list[tuple[int, float]]:
    """(attempt number, start time) from the attempt headers of the task log."""
    return [(int(n), parse_time(at)) for n, at in HEADER.findall(task_log(root, task_id))]


def queued(root: Path, task_id: str) -> dict | None:
    return next((t for t in queue_tasks(root) if t.get("id") == task_id), None)


def test_flaky_task_is_retried_after_a_growing_delay(root: Path, daemon, tmp_path) -> None:
    write_settings(root, "[runner]\nretry_delay = 0.5\nmax_retries = 2")
    daemon.start()
    counter = tmp_path / "flaky-counter"
    # "other" is queued behind "flaky": it may run while flaky waits for its retry
    drop(root, "jobs.json", {"list": [
        {"prompt": f"@flaky {counter} 3", "id": "flaky"},
        {"prompt": "plain", "id": "other"},
    ]})
    waiting = []
    for attempts in (1, 2):
        entry = wait_for(lambda n=attempts: (t := queued(root, "flaky")) and t.get("attempts") == n
                         and t, timeout=15, message=f"flaky queued after attempt {attempts}")
        waiting.append(dict(entry))
    record = wait_for(lambda: record_of(root, "flaky"), message="flaky archived")

    assert record["status"] == "success", daemon.output()
    assert record["attempts"] == 3
    assert counter.read_text() == "3"
    for entry in waiting:
        assert entry["lastError"] and "flaky failure" in entry["lastError"]
        assert "outcome" not in entry and "startedAt" not in entry
    starts = attempt_starts(root, "flaky")
    assert [n for n, _ in starts] == [1, 2, 3]
    # notBefore = end of attempt n + retry_delay * 2^(n-1), and attempt n+1 waits for it
    for n, entry in enumerate(waiting, start=1):
        not_before = parse_time(entry["notBefore"])
        delay = 0.5 * 2 ** (n - 1)
        assert not_before - starts[n - 1][1] >= delay - 0.002
        assert starts[n][1] >= not_before - 0.002
        assert starts[n][1] - starts[n - 1][1] >= delay
    # the slot is not idle during a backoff: the ready task behind ran before flaky's retry
    other = record_of(root, "other")
    assert other and other["status"] == "success"
    assert parse_time(other["startedAt"]) < starts[1][1]


def test_failing_task_ends_in_failed_after_max_retries(root: Path, daemon) -> None:
    daemon.start()
    drop(root, "fail.json", {"prompt": "@fail", "id": "always-fails", "maxRetries": 1})
    record = wait_for(lambda: record_of(root, "always-fails"), message="always-fails archived")
    assert record["status"] == "failed"
    assert record["outcome"] == "error"
    assert record["attempts"] == 2
    assert "it went wrong" in record["error"] and "\n" not in record["error"]
    assert "failedAt" in record and "completedAt" not in record
    assert [r["id"] for r in records(root, "failed")] == ["always-fails"]
    assert not records(root, "completed")
    assert [n for n, _ in attempt_starts(root, "always-fails")] == [1, 2]
    assert queued(root, "always-fails") is None


def test_max_turns_is_not_retried(root: Path, daemon) -> None:
    daemon.start()
    drop(root, "turns.json", {"prompt": "@subtype error_max_turns", "id": "max-turns",
                              "maxRetries": 3})
    record = wait_for(lambda: record_of(root, "max-turns"), message="max-turns archived")
    assert record["status"] == "failed"
    assert record["outcome"] == "error"
    assert record["attempts"] == 1
    assert [n for n, _ in attempt_starts(root, "max-turns")] == [1]
    assert queued(root, "max-turns") is None
