"""Backpressure (high/low watermarks with hysteresis) and the queue commands: cancel,
clear, retry."""

import json
import re
from pathlib import Path

from helpers import (
    cli,
    drop,
    holds,
    parse_time,
    pid_gone,
    queue_ids,
    queue_tasks,
    record_of,
    records,
    running_id,
    running_task,
    status_json,
    task_log,
    wait_for,
    write_settings,
)

EXIT_FULL = 75


def add(root: Path, task_id: str, prompt: str, *extra: str):
    return cli(root, "add", prompt, "--id", task_id, *extra)


def start_blocker(root: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A task that holds the slot until the test creates the returned release file."""
    marker, release = tmp_path / "blocker.runs", tmp_path / "blocker.release"
    done = add(root, "blocker", f"@append {marker}\n@wait {release} 60")
    assert done.returncode == 0, done.stderr
    wait_for(lambda: marker.exists() and running_task(root).get("pid"),
             message="the blocker running")
    assert running_id(root) == "blocker"
    return marker, release


def attempts_logged(root: Path, task_id: str) -> int:
    return len(re.findall(r"attempt \d+ at ", task_log(root, task_id)))


def test_watermarks_gate_add_and_inbox_and_high_priority_passes(root: Path, daemon,
                                                                 tmp_path: Path) -> None:
    write_settings(root, "[queue]\nhigh_watermark = 3\nlow_watermark = 1")
    daemon.start()
    runs = tmp_path / "runs"
    runs.mkdir()
    _, release = start_blocker(root, tmp_path)

    def job(task_id: str) -> str:
        return f"@append {runs / task_id}"

    # the queue takes tasks until its length passes 3
    for number in range(1, 5):
        done = add(root, f"q{number}", job(f"q{number}"))
        assert done.returncode == 0 and done.stdout.strip() == f"q{number}", done.stderr
        if number == 2:
            check = cli(root, "queue", "check")
            assert (check.returncode, check.stdout.strip()) == (0, "busy")
    assert queue_ids(root) == ["q1", "q2", "q3", "q4"]
    refused = add(root, "q5", job("q5"))
    assert refused.returncode == EXIT_FULL, refused.stderr
    assert "q5" not in queue_ids(root)
    check = cli(root, "queue", "check")
    assert check.returncode == EXIT_FULL and "full" in check.stdout
    check = cli(root, "queue", "check", "--json")
    assert check.returncode == EXIT_FULL and json.loads(check.stdout)["level"] == "full"
    queue = status_json(root)["queue"]
    assert (queue["length"], queue["level"]) == (4, "full")

    # a normal inbox file waits in inbox/; a high-priority one passes
    drop(root, "normal.json", {"prompt": job("inbox-normal"), "id": "inbox-normal"})
    waiting = root / "inbox" / "normal.json"
    holds(lambda: waiting.exists() and "inbox-normal" not in queue_ids(root), 1.0,
          message="the normal inbox file waits")
    drop(root, "high.json", {"prompt": job("inbox-high"), "id": "inbox-high",
                             "priority": "high"})
    wait_for(lambda: "inbox-high" in queue_ids(root), message="the high file admitted")
    # the inbox file is deleted just after the queue write (rule 3): wait for it, not assert
    wait_for(lambda: not (root / "inbox" / "high.json").exists(), message="high.json removed")
    assert waiting.exists()

    # hysteresis: back to 3 (not above high, still above low) the queue stays full
    for task_id in ("q1", "q2"):
        done = cli(root, "cancel", task_id)
        assert done.returncode == 0, done.stderr
    assert queue_ids(root) == ["q3", "q4", "inbox-high"]
    check = cli(root, "queue", "check")
    assert check.returncode == EXIT_FULL and "full" in check.stdout
    drop(root, "high2.json", {"prompt": job("inbox-high2"), "id": "inbox-high2",
                              "priority": "high"})
    wait_for(lambda: "inbox-high2" in queue_ids(root),
             message="the daemon looked at the inbox again (a high file admitted)")
    holds(lambda: waiting.exists(), 0.5, message="the normal inbox file still waits")

    # free the slot: high runs first, the queue drains, the gate opens, the file is admitted
    release.touch()
    for task_id in ("blocker", "inbox-high", "inbox-high2", "q3", "q4", "inbox-normal"):
        record = wait_for(lambda t=task_id: record_of(root, t), timeout=20,
                          message=f"{task_id} done")
        assert record["status"] == "success", daemon.output()
    order = sorted(("inbox-high", "inbox-high2", "q3", "q4", "inbox-normal"),
                   key=lambda t: parse_time(record_of(root, t)["startedAt"]))
    assert order == ["inbox-high", "inbox-high2", "q3", "q4", "inbox-normal"]
    assert not waiting.exists()
    check = cli(root, "queue", "check")
    assert (check.returncode, check.stdout.strip()) == (0, "ok")

    cancelled = {r["id"]: r for r in records(root, "failed")}
    assert set(cancelled) == {"q1", "q2"}
    assert all(r["outcome"] == "cancelled" and r["status"] == "failed"
               for r in cancelled.values())
    assert not (runs / "q1").exists() and not (runs / "q2").exists()
    assert not (runs / "q5").exists() and record_of(root, "q5") is None


def test_clear_and_retry(root: Path, daemon, tmp_path: Path) -> None:
    daemon.start()
    counter = tmp_path / "flaky-counter"
    drop(root, "flaky.json", {"prompt": f"@flaky {counter} 2", "id": "flaky", "maxRetries": 0})
    first = wait_for(lambda: record_of(root, "flaky"), message="flaky failed once")
    assert first["status"] == "failed" and first["attempts"] == 1

    _, release = start_blocker(root, tmp_path)
    for task_id in ("a", "b", "c"):
        assert add(root, task_id, f"@append {tmp_path / task_id}").returncode == 0
    assert queue_ids(root) == ["a", "b", "c"]
    done = cli(root, "clear", "--yes")
    assert done.returncode == 0, done.stderr
    assert queue_ids(root) == []
    failed = {r["id"]: r for r in records(root, "failed")}
    assert {"a", "b", "c"} <= failed.keys()
    assert all(failed[t]["outcome"] == "cancelled" for t in ("a", "b", "c"))
    assert cli(root, "cancel", "unknown-id").returncode == 1

    # retry: the failed record goes back to the head of the queue, attempts reset
    assert add(root, "x", "plain").returncode == 0
    done = cli(root, "retry", "flaky")
    assert done.returncode == 0, done.stderr
    queued = queue_tasks(root)
    assert [t["id"] for t in queued] == ["flaky", "x"]
    assert queued[0].get("attempts", 0) == 0
    assert not {"status", "outcome", "error", "failedAt"} & queued[0].keys()
    assert cli(root, "retry", "unknown-id").returncode == 1

    release.touch()
    retried = wait_for(lambda: next((r for r in records(root, "completed")
                                     if r["id"] == "flaky"), None), message="flaky retried")
    assert retried["attempts"] == 1
    x = wait_for(lambda: record_of(root, "x"), message="x done")
    assert parse_time(retried["startedAt"]) < parse_time(x["startedAt"])
    assert not any((tmp_path / t).exists() for t in ("a", "b", "c")), "cleared tasks ran"


def test_cancel_running_task(root: Path, daemon, tmp_path: Path) -> None:
    daemon.start()
    marker = tmp_path / "runs"
    assert add(root, "sleeper", f"@append {marker}\n@sleep 60").returncode == 0
    assert add(root, "after", "plain").returncode == 0
    pid = wait_for(lambda: marker.exists() and running_task(root).get("pid"),
                   message="sleeper running")

    done = cli(root, "cancel", "sleeper")
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    record = wait_for(lambda: record_of(root, "sleeper"), timeout=5, message="sleeper archived")
    assert record["status"] == "failed" and record["outcome"] == "cancelled"
    assert record["attempts"] == 1
    wait_for(lambda: pid_gone(pid), timeout=5, message="the sleeper's agent gone")
    # not retried: the next task runs, the sleeper never again
    wait_for(lambda: record_of(root, "after"), message="the next task ran")
    assert len(marker.read_text().splitlines()) == 1
    assert attempts_logged(root, "sleeper") == 1
    assert "sleeper" not in queue_ids(root)
    assert [r["id"] for r in records(root, "failed")] == ["sleeper"]
