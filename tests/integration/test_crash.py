"""A crash (kill -9) and a stop (SIGTERM) in the middle of a task: nothing lost, nothing twice."""

import signal
import time
from pathlib import Path

from helpers import (
    DaemonProcess,
    drop,
    history,
    pid_gone,
    queue_tasks,
    record_of,
    records,
    running_task,
    wait_for,
)


def start_sleeper(root: Path, tmp_path: Path, task_id: str) -> tuple[Path, int]:
    """Drop a task that sleeps 30 s on its first run only; return its runs file and pid."""
    runs = tmp_path / f"{task_id}.runs"
    prompt = f"@append {runs}\n@once {tmp_path / (task_id + '.slept')} sleep 30"
    drop(root, f"{task_id}.json", {"prompt": prompt, "id": task_id})
    wait_for(lambda: runs.exists(), message=f"{task_id} started")
    entry = wait_for(lambda: (e := running_task(root)).get("pid") and e, message="agent pid")
    assert entry["id"] == task_id
    return runs, entry["pid"]


def test_kill_9_then_restart_runs_the_task_again_exactly_once(root: Path, daemon,
                                                              tmp_path: Path) -> None:
    daemon.start()
    runs, agent = start_sleeper(root, tmp_path, "crashy")
    daemon.signal(signal.SIGKILL)
    daemon.wait(timeout=10)
    assert not pid_gone(agent), "the agent survives its daemon (own process group)"

    restarted = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, "crashy"), timeout=20, message="crashy done")
        assert pid_gone(agent), "the old agent's group must be ended on start"
        assert record["status"] == "success", restarted.output()
        assert record["attempts"] == 2
        assert len(runs.read_text().splitlines()) == 2
        assert [r["id"] for r in records(root, "completed")] == ["crashy"]
        assert [r["id"] for r in wait_for(lambda: history(root), timeout=5)] == ["crashy"]
        assert not records(root, "failed")
        assert "crashy" not in [t.get("id") for t in queue_tasks(root)]
    finally:
        restarted.stop()


def test_sigterm_requeues_without_counting_and_exits_0(root: Path, daemon,
                                                       tmp_path: Path) -> None:
    daemon.start()  # kill_grace = 1 s in tests
    runs, agent = start_sleeper(root, tmp_path, "stopped")
    asked = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=1 + 5) == 0
    assert time.monotonic() - asked < 1 + 5

    queued = queue_tasks(root)
    assert queued and queued[0]["id"] == "stopped"
    assert queued[0].get("attempts", 0) == 0
    assert not running_task(root).get("id")
    assert wait_for(lambda: pid_gone(agent), timeout=2, message="agent gone")
    assert record_of(root, "stopped") is None

    restarted = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, "stopped"), timeout=20, message="stopped done")
        assert record["status"] == "success", restarted.output()
        assert record["attempts"] == 1
        assert len(runs.read_text().splitlines()) == 2
        assert [r["id"] for r in wait_for(lambda: history(root), timeout=5)] == ["stopped"]
    finally:
        restarted.stop()
