"""Issue 9 (D1 D2 D9 D11 D15 D16 D17/18): one poison input never loses a task or stops the
runner; symlinked state folders are refused; the daemon's files are private and its logs
carry no secrets."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from helpers import (
    REPO,
    append_to_queue,
    cli,
    drop,
    queue_ids,
    record_of,
    running_task,
    state,
    status_json,
    task_log,
    wait_for,
    write_settings,
)


def rejected(root: Path) -> Path:
    return root / "inbox" / "rejected"


def reasons(root: Path, name: str) -> str:
    report = json.loads((rejected(root) / f"{name}.error.json").read_text())
    return " | ".join(f"{e['field']}: {e['reason']}" for e in report["errors"])


def runner_log(root: Path) -> str:
    return (root / "logs" / "runner.jsonl").read_text(errors="replace")


def poison_inbox(root: Path, tmp_path: Path) -> dict[str, str]:
    """Bad inbox entries of every kind -> a word their rejection reason must contain."""
    inbox = root / "inbox"
    inbox.mkdir(exist_ok=True)
    drop(root, "lost1.json", {"id": "lost1", "prompt": "p", "model": "a\u0000b"})
    drop(root, "nul-tools.json", {"prompt": "p", "allowedTools": ["Re\u0000ad"]})
    drop(root, "nul-system.json", {"prompt": "p", "appendSystemPrompt": "a\u0000b"})
    drop(root, "deep.json", raw=b'{"prompt": "p", "x": ' + b"[" * 400 + b"]" * 400 + b"}")
    drop(root, "huge.json", raw=b'{"prompt": "' + b"x" * 5000 + b'"}')
    drop(root, "retries.json", {"prompt": "p", "maxRetries": 10**30, "attempts": 10**30})
    drop(root, "timeout.json", {"prompt": "p", "timeout": 9_300_000_000_000})
    os.symlink(inbox / "loop.json", inbox / "loop.json")
    os.symlink(tmp_path / "missing", inbox / "dangling.json")
    os.mkfifo(inbox / "fifo.json")
    (inbox / "folder.json").mkdir()
    (inbox / os.fsdecode(b"bad-\xff.json")).write_bytes(b"\xff\xfe not json")
    long_name = "L" * 245 + ".json"
    (inbox / long_name).write_bytes(b"not json")
    return {"lost1.json": "model", "nul-tools.json": "allowedTools",
            "nul-system.json": "appendSystemPrompt", "deep.json": "nested",
            "huge.json": "limits.inbox_file_bytes", "retries.json": "maxRetries",
            "timeout.json": "timeout", "loop.json": "symbolic link",
            "dangling.json": "symbolic link", "fifo.json": "FIFO", "folder.json": "directory",
            os.fsdecode(b"bad-\xff.json"): "not valid JSON", long_name: "not valid JSON"}


def test_poison_at_start_up_loses_nothing_and_stops_nothing(root: Path, daemon,
                                                            tmp_path: Path) -> None:
    write_settings(root, "[limits]\ninbox_file_bytes = 4096")
    expected = poison_inbox(root, tmp_path)
    cancel = root / "tasks" / "cancel"
    cancel.mkdir(parents=True)
    (cancel / "a-folder").mkdir()                 # not a request: left alone, never a crash
    (cancel / "not an id!").write_text("keep")    # not a valid id: never deleted
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    append_to_queue(root, {"id": "q-huge", "prompt": "p", "attempts": 10**30,
                           "maxRetries": 10**30},
                    {"id": "q-deep", "prompt": "p", "x": deep},
                    {"id": "q-good", "prompt": "fine"})

    daemon.start()  # the first tick meets all of it; the daemon must come up
    drop(root, "after.json", {"id": "after", "prompt": "still running"})

    assert wait_for(lambda: record_of(root, "after"), message="after ran")["status"] == "success"
    assert record_of(root, "q-good")["status"] == "success"
    for task_id in ("q-huge", "q-deep"):
        record = record_of(root, task_id)
        assert record and record["outcome"] == "invalid", record
    assert "nested more than" in record_of(root, "q-deep")["error"]
    wait_for(lambda: all((rejected(root) / name).exists() or (rejected(root) / name).is_symlink()
                         for name in expected)
             and sum(p.name.endswith(".error.json") for p in rejected(root).iterdir())
             >= len(expected),  # each report is written once its file is moved
             message="every poison file rejected, with its report")
    for name, word in expected.items():
        if name.startswith("L"):
            name = next(p.name for p in rejected(root).iterdir()
                        if p.name.startswith("LLLL") and p.name.endswith(".error.json"))
            assert word in json.loads((rejected(root) / name).read_text())["errors"][0]["reason"]
            continue
        if "\udcff" in name:
            assert any(p.name.endswith(".error.json") and "bad-" in p.name
                       for p in rejected(root).iterdir())
            continue
        assert word in reasons(root, name), (name, reasons(root, name))
    assert record_of(root, "lost1") is None and "lost1" not in queue_ids(root)
    assert (cancel / "a-folder").is_dir() and (cancel / "not an id!").read_text() == "keep"
    assert [p for p in (root / "inbox").iterdir() if p.name != "rejected"] == []
    assert status_json(root)["daemon"]["alive"] is True
    assert state(root)["tickAt"]
    assert daemon.process.poll() is None


def test_queue_json_replaced_by_a_folder_is_reported_once(root: Path, daemon) -> None:
    daemon.start()
    queue = root / "tasks" / "queue.json"
    drop(root, "warm.json", {"id": "warm", "prompt": "p"})
    wait_for(lambda: record_of(root, "warm"), message="warm ran")
    queue.unlink()
    queue.mkdir()
    drop(root, "one.json", {"id": "one", "prompt": "p"})
    wait_for(lambda: "queue.json cannot be parsed" in runner_log(root), message="damage logged")
    drop(root, "two.json", {"id": "two", "prompt": "p"})
    queue.rmdir()
    drop(root, "three.json", {"id": "three", "prompt": "p"})

    for task_id in ("one", "two", "three"):
        wait_for(lambda task_id=task_id: record_of(root, task_id), message=f"{task_id} ran")
    lines = runner_log(root).splitlines()
    assert sum("queue.json cannot be parsed" in line for line in lines) == 1
    assert daemon.process.poll() is None


def test_any_spawn_error_is_a_failed_attempt_with_its_reason(root: Path, daemon) -> None:
    write_settings(root, f'[agent]\npreset = "custom"\nargv = ["{sys.executable}", "{{nope}}"]')
    daemon.start()
    drop(root, "first.json", {"id": "first", "prompt": "p", "maxRetries": 3})
    drop(root, "second.json", {"id": "second", "prompt": "p"})

    for task_id in ("first", "second"):
        record = wait_for(lambda task_id=task_id: record_of(root, task_id),
                          message=f"{task_id} archived")
        assert record["outcome"] == "error", record
        assert "cannot start the agent: KeyError" in record["error"], record
        assert record["attempts"] == 1  # the same argv would fail the same way: no retry
    assert status_json(root)["daemon"]["alive"] is True


def test_a_symlinked_state_folder_is_refused(root: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious").write_text("mine")
    (root / "tasks").mkdir()
    os.symlink(elsewhere, root / "tasks" / "cancel")

    run = subprocess.run([sys.executable, "-m", "pipeline", "run", "--root", str(root)],
                         capture_output=True, text=True, timeout=30, cwd=REPO)

    assert run.returncode != 0
    assert "tasks/cancel is a symbolic link" in run.stderr
    assert (elsewhere / "precious").read_text() == "mine"
    assert cli(root, "add", "x").returncode != 0  # the CLI refuses it too


def test_private_files_no_secrets_in_logs_and_stale_prompts_swept(root: Path, daemon,
                                                                   tmp_path: Path) -> None:
    tasks_log = root / "logs" / "tasks"
    tasks_log.mkdir(parents=True)
    (tasks_log / "crashed.prompt").write_text("a prompt left by a crash")
    made_by_agent = tmp_path / "made-by-agent.txt"
    old = os.umask(0o022)
    os.umask(old)
    daemon.start()
    assert not (tasks_log / "crashed.prompt").exists()
    drop(root, "secret.json", {"id": "secret", "prompt": f"@append {made_by_agent}",
                               "appendSystemPrompt": "SYSTEM-SECRET-42", "model": "m-1"})

    assert wait_for(lambda: record_of(root, "secret"))["status"] == "success"
    header = task_log(root, "secret").splitlines()[1]
    assert "--append-system-prompt" in header and "--model" in header
    assert "SYSTEM-SECRET-42" not in task_log(root, "secret")
    assert "SYSTEM-SECRET-42" not in runner_log(root)
    assert list(tasks_log.glob("*.prompt")) == []
    private = [tasks_log / "secret.log", root / "logs" / "runner.jsonl",
               *(root / "tasks" / "history").glob("*.jsonl")]
    for path in private:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    # the agent keeps the umask the daemon was started with
    assert stat.S_IMODE(made_by_agent.stat().st_mode) == 0o666 & ~old


def test_with_workspace_roots_a_task_must_name_its_workspace(root: Path, tmp_path: Path) -> None:
    allowed = tmp_path / "projects"
    (allowed / "one").mkdir(parents=True)
    write_settings(root, f'[security]\nworkspace_roots = ["{allowed}"]')

    refused = cli(root, "add", "edit runner.toml, please")
    assert refused.returncode == 2
    assert "workspace: is required when workspace_roots is set" in refused.stderr
    assert cli(root, "add", "fine", "-w", str(allowed / "one")).returncode == 0
    assert len(queue_ids(root)) == 1


def test_cancel_requests_still_end_queued_and_running_tasks(root: Path, daemon,
                                                            tmp_path: Path) -> None:
    release = tmp_path / "release"
    daemon.start()
    drop(root, "busy.json", {"id": "busy", "prompt": f"@wait {release}"})
    wait_for(lambda: running_task(root).get("id") == "busy" and running_task(root).get("pid"),
             message="busy runs")
    append_to_queue(root, {"id": "queued-one", "prompt": "p"})
    cancel = root / "tasks" / "cancel"
    (cancel / "queued-one").touch()          # what `cancel` does for a task the daemon holds
    queued = wait_for(lambda: record_of(root, "queued-one"), message="queued-one cancelled")
    assert queued["outcome"] == "cancelled"
    wait_for(lambda: not (cancel / "queued-one").exists(), message="its request removed")

    done = cli(root, "cancel", "busy")
    assert done.returncode == 0, done.stderr
    assert record_of(root, "busy")["outcome"] == "cancelled"
    assert not (cancel / "busy").exists()

