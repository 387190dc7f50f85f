"""No agent process outlives its run (D12), and a crash between the spawn and the pid
write still finds and ends the agent at the next start (D10)."""

import os
import signal
import subprocess
import sys
from pathlib import Path

from helpers import (
    DaemonProcess,
    cli,
    drop,
    pid_gone,
    record_of,
    running_task,
    wait_for,
    write_json,
)


def pids_in(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


def test_a_double_forked_grandchild_in_its_own_session_ends_with_the_run(root, daemon,
                                                                         tmp_path):
    daemon.start()
    pid_file = tmp_path / "orphans"
    drop(root, "o.json", {"id": "orph", "prompt": f"@orphan {pid_file}"})
    record = wait_for(lambda: record_of(root, "orph"), message="orph done")
    assert record["status"] == "success"
    [orphan] = pids_in(pid_file)
    wait_for(lambda: pid_gone(orphan), timeout=10, message="the orphan ended")


def test_cancel_ends_a_stubborn_agent_and_its_escaped_grandchild(root, daemon, tmp_path):
    daemon.start()
    orphans, stubborn = tmp_path / "orphans", tmp_path / "stubborn"
    drop(root, "c.json", {"id": "stub", "prompt": f"@orphan {orphans}\n@ignore-term {stubborn}"})
    wait_for(lambda: pids_in(stubborn), message="the stubborn agent started")
    assert cli(root, "cancel", "stub").returncode == 0
    record = wait_for(lambda: record_of(root, "stub"), timeout=20, message="stub cancelled")
    assert record["outcome"] == "cancelled"
    for pid in pids_in(orphans) + pids_in(stubborn):
        wait_for(lambda pid=pid: pid_gone(pid), timeout=10, message=f"{pid} ended")


def test_an_agent_started_just_before_a_crash_is_found_by_its_marker(root, tmp_path):
    marker = "d10crash"
    agent = subprocess.Popen(  # the agent the crashed daemon had just spawned
        [sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True,
        env={**os.environ, "CLAUDE_RUNNER_ATTEMPT": marker})
    write_json(root / "tasks" / "running.json", {
        "id": "early", "prompt": "hello", "createdAt": "2026-11-25T12:00:00+00:00",
        "startedAt": "2026-11-25T12:00:01+00:00", "attempt": 1, "pid": None,
        "attemptId": marker})
    daemon = DaemonProcess(root)
    try:
        daemon.start()
        assert agent.wait(timeout=15) == -signal.SIGTERM
        record = wait_for(lambda: record_of(root, "early"), message="early done")
        assert record["status"] == "success" and record["attempts"] == 2
        wait_for(lambda: not running_task(root).get("id"), message="running.json cleared")
    finally:
        daemon.stop()
        if agent.poll() is None:
            agent.kill()
