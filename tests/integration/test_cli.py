"""The command line: add (durable, daemon or not), list, status --json, logs."""

import json
import re
from pathlib import Path

import pytest
from helpers import (
    cli,
    parse_time,
    queue_tasks,
    read_json,
    record_of,
    status_json,
    task_log,
    wait_for,
)

ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


def test_add_without_a_daemon_is_durable(root: Path, tmp_path: Path) -> None:
    assert not (root / "tasks" / "state.json").exists()
    done = cli(root, "add", "first task", "--id", "cli-1", "--name", "First", "--role", "coach",
               "-w", str(tmp_path), "-t", "5000", "--tools", "Read,Grep", "--priority", "high")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "cli-1"
    done = cli(root, "add", "second task ✓")
    assert done.returncode == 0, done.stderr
    generated = done.stdout.strip()
    assert ID.match(generated) and generated != "cli-1"

    # on disk once the command has returned
    raw = (root / "tasks" / "queue.json").read_text(encoding="utf-8")
    assert "second task ✓" in raw
    first, second = json.loads(raw)["list"]
    assert first["id"] == "cli-1" and first["prompt"] == "first task"
    assert first["name"] == "First" and first["role"] == "coach"
    assert first["workspace"] == str(tmp_path) and first["timeout"] == 5000
    assert first["allowedTools"] == ["Read", "Grep"] and first["priority"] == "high"
    parse_time(first["createdAt"])
    assert second["id"] == generated and second["prompt"] == "second task ✓"

    # list queue --json is the queue's content
    listed = cli(root, "list", "queue", "--json")
    assert listed.returncode == 0
    assert json.loads(listed.stdout) == [first, second]

    # status works with no daemon: alive is false
    status = status_json(root)
    assert status["daemon"]["alive"] is False
    assert {"alive", "pid", "heartbeatAt", "startedAt"} <= status["daemon"].keys()
    assert status["running"] is None
    assert status["queue"]["length"] == 2 and status["queue"]["level"] == "ok"
    assert status["pausedUntil"] is None
    assert status["counts"] == {"completed": 0, "failed": 0, "cancelled": 0}
    # a duplicate id is refused, and nothing is added
    done = cli(root, "add", "again", "--id", "cli-1")
    assert done.returncode == 2
    assert len(queue_tasks(root)) == 2


@pytest.mark.parametrize(("args", "field"), [
    (["add", "x", "-w", "no/such/folder"], "workspace"),
    (["add", "x", "-t", "0"], "timeout"),
    (["add", "x", "--id", "bad id/"], "id"),
    (["add", "x", "--id", "a" * 129], "id"),
    (["add", "   "], "prompt"),
])
def test_add_with_bad_input_exits_2_naming_the_field(root: Path, args: list[str],
                                                     field: str) -> None:
    done = cli(root, *args)
    assert done.returncode == 2
    message = done.stderr.strip()
    assert message and "\n" not in message, done.stderr
    assert field in message
    assert done.stdout == ""
    assert queue_tasks(root) == []


def test_status_list_and_logs_with_a_daemon(root: Path, daemon) -> None:
    for task_id in ("one", "two"):
        assert cli(root, "add", f"task {task_id}", "--id", task_id).returncode == 0
    daemon.start()
    wait_for(lambda: record_of(root, "one") and record_of(root, "two"), message="both done")

    status = wait_for(lambda: (s := status_json(root))["counts"]["completed"] == 2 and s,
                      message="status counts")
    assert status["daemon"]["alive"] is True
    assert status["daemon"]["pid"] == daemon.process.pid
    parse_time(status["daemon"]["heartbeatAt"])
    parse_time(status["daemon"]["startedAt"])
    assert status["queue"]["length"] == 0 and status["queue"]["level"] == "ok"
    assert status["counts"]["failed"] == 0
    assert status["pausedUntil"] is None
    assert status["running"] is None or status["running"] in ("one", "two")
    assert cli(root, "status").returncode == 0

    # list completed -n 1: the most recent record only
    newest = read_json(root / "tasks" / "completed.json")["list"][-1]
    listed = cli(root, "list", "completed", "-n", "1", "--json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == [newest]
    listed = cli(root, "list", "completed", "-n", "1")
    lines = listed.stdout.strip().splitlines()
    assert listed.returncode == 0 and len(lines) == 2 and newest["id"] in lines[1]
    assert lines[0].startswith("ID ")  # a table with a header
    listed = cli(root, "list", "completed", "--json")
    assert [r["id"] for r in json.loads(listed.stdout)] == ["one", "two"]

    # logs <id> prints the task log
    logs = cli(root, "logs", "one")
    assert logs.returncode == 0
    assert logs.stdout == task_log(root, "one")
    assert "attempt 1" in logs.stdout and "task one" in logs.stdout

    daemon.stop()
    assert status_json(root)["daemon"]["alive"] is False


def test_show_finds_a_task_wherever_it_is(root):
    assert cli(root, "add", "look at me", "--id", "shown", "--role", "coach").returncode == 0
    done = cli(root, "show", "shown")
    assert done.returncode == 0 and done.stdout.startswith("shown  (queued, position 1)")
    assert "look at me" in done.stdout and "coach" in done.stdout
    assert cli(root, "show", "nobody").returncode == 1
    assert cli(root, "list", "failed").stdout.strip() == "(failed is empty)"


def test_show_takes_an_id_as_list_cuts_it(root):
    long_id = "opc-coach-planning-1795894246000"
    assert cli(root, "add", "a scheduled copy", "--id", long_id).returncode == 0
    assert cli(root, "add", "another", "--id", "opc-coach-planning-2").returncode == 0
    done = cli(root, "show", "opc-coach-planning-17958…")  # the table's cut form
    assert done.returncode == 0 and done.stdout.startswith(f"{long_id}  (queued")
    ambiguous = cli(root, "show", "opc-coach")
    assert ambiguous.returncode == 1 and "it begins 2 ids" in ambiguous.stderr
