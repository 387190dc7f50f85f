"""The runner under a real PM2, started from the repository's ecosystem.config.js.

PM2 comes from `<repo>/.tools/pm2` (CI: `npm install --prefix .tools/pm2 pm2`) or PATH.
Everything is private to the test: its own PM2_HOME, root and app name; PM2 is killed at
the end. One test walks the whole life cycle, because every PM2 start costs seconds.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import pytest
from helpers import (
    REPO,
    drop,
    history,
    parse_time,
    pid_gone,
    queue_tasks,
    record_of,
    records,
    running_task,
    state,
    task_log,
    wait_for,
    write_settings,
)

pytestmark = [
    pytest.mark.pm2,
    pytest.mark.timeout(240),
    pytest.mark.skipif(sys.platform == "win32", reason="kill -9 and /proc: POSIX only"),
]

ECOSYSTEM = REPO / "ecosystem.config.js"
LOCAL_PM2 = REPO / ".tools" / "pm2" / "node_modules" / ".bin" / "pm2"
MARKER_NAME = "CLAUDE_RUNNER_PM2_TEST_MARKER"


def pm2_binary() -> str | None:
    if LOCAL_PM2.exists():
        return str(LOCAL_PM2)
    return shutil.which("pm2")


class Pm2:
    """The pm2 CLI with a private PM2_HOME and the env the ecosystem file reads."""

    def __init__(self, binary: str, home: Path, root: Path, app: str) -> None:
        self.binary = binary
        self.app = app
        env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_RUNNER_")}
        self.env = {**env, "PM2_HOME": str(home), "CLAUDE_RUNNER_ROOT": str(root),
                    "CLAUDE_RUNNER_APP_NAME": app, "CLAUDE_RUNNER_RESTART_DELAY": "500"}

    def __call__(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        done = subprocess.run([self.binary, *args], capture_output=True, text=True,
                              env=self.env, timeout=timeout, cwd=REPO)
        assert done.returncode == 0, f"pm2 {' '.join(args)}: {done.stdout}\n{done.stderr}"
        return done

    def info(self) -> dict[str, Any]:
        """Our app's entry in `pm2 jlist` ({} when not registered)."""
        out = self("jlist").stdout
        lines = [line for line in out.splitlines() if line.startswith("[")]
        apps = json.loads(lines[-1]) if lines else []
        return next((a for a in apps if a.get("name") == self.app), {})

    def online_pid(self) -> int | None:
        info = self.info()
        if info.get("pm2_env", {}).get("status") == "online" and info.get("pid"):
            return info["pid"]
        return None


def marker_processes(marker: str) -> list[int]:
    """Live processes (agents and their children) whose environment carries `marker`."""
    needle = f"{MARKER_NAME}={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0") and not pid_gone(int(entry.name)):
            found.append(int(entry.name))
    return found


def wait_daemon(root: Path, pm2: Pm2, old_pid: int | None = None, after: float = 0.0,
                timeout: float = 30) -> int:
    """The pid of a daemon that PM2 shows online, that is not `old_pid`, and that wrote
    its first heartbeat after `after` (epoch seconds)."""

    def up() -> int | None:
        current = state(root)
        pid, beat = current.get("pid"), current.get("heartbeatAt")
        if not isinstance(pid, int) or pid == old_pid or not beat or parse_time(beat) < after:
            return None
        return pid if pm2.online_pid() == pid else None

    return wait_for(up, timeout=timeout, interval=0.2, message="PM2 to (re)start the daemon")


def start_long_task(root: Path, task_id: str, runs: Path) -> int:
    """Drop a 5 s task and wait until its agent runs; return the agent's pid."""
    drop(root, f"{task_id}.json", {"id": task_id, "prompt": f"@append {runs}\n@sleep 5"})
    wait_for(lambda: running_task(root).get("id") == task_id and line_count(runs) == 1,
             timeout=20, message=f"{task_id} to start")
    return running_task(root)["pid"]


def explain(root: Path, task_id: str) -> str:
    """What to print when a task's check fails: its record, its log and the runner's log."""
    logs = root / "logs"
    parts = [json.dumps(record_of(root, task_id)), task_log(root, task_id)[-2000:]]
    for name in ("runner-error.log", "runner-out.log"):
        path = logs / name
        parts.append(path.read_text(errors="replace")[-3000:] if path.exists() else "")
    return "\n---\n".join(parts)


def line_count(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def ids(root: Path, which: str) -> list[Any]:
    return [r.get("id") for r in records(root, which)]


def test_runner_under_pm2(tmp_path: Path) -> None:
    binary = pm2_binary()
    if binary is None:
        pytest.skip("PM2 not found: run `npm install --prefix .tools/pm2 pm2` or put pm2 on PATH")
    began = time.monotonic()
    root = tmp_path / "root"
    root.mkdir()
    marker = uuid.uuid4().hex
    write_settings(root, f'[runner]\nkill_grace = 1\n[agent.env]\n{MARKER_NAME} = "{marker}"\n')
    home = Path(tempfile.mkdtemp(prefix="pm2-", dir="/tmp"))  # short: PM2 puts sockets here
    pm2 = Pm2(binary, home, root, f"cr-test-{marker[:8]}")
    try:
        pm2("start", str(ECOSYSTEM))
        pid = wait_daemon(root, pm2)

        # 1. an ordinary task
        drop(root, "quick.json", {"id": "quick", "prompt": "hello"})
        quick = wait_for(lambda: record_of(root, "quick"), timeout=20, message="quick archived")
        assert quick["status"] == "success", explain(root, "quick")

        # 2. kill -9 of the daemon mid-task: PM2 restarts it; the task runs again, once
        runs = tmp_path / "crash-runs.txt"
        agent = start_long_task(root, "crash", runs)
        killed_at = time.time()
        os.kill(pid, signal.SIGKILL)
        pid = wait_daemon(root, pm2, old_pid=pid, after=killed_at)
        assert pm2.info()["pm2_env"]["restart_time"] >= 1
        wait_for(lambda: pid_gone(agent), timeout=10, message="the orphaned agent ended")
        crash = wait_for(lambda: record_of(root, "crash"), timeout=30, message="crash archived")
        assert crash["status"] == "success" and crash["attempts"] == 2, explain(root, "crash")
        assert ids(root, "completed").count("crash") == 1 and "crash" not in ids(root, "failed")
        # the history line follows the completed.json write: wait for it, then count
        wait_for(lambda: "crash" in [r["id"] for r in history(root)], message="history line")
        assert [r["id"] for r in history(root)].count("crash") == 1
        assert line_count(runs) == 2

        # 3. `pm2 restart` mid-task: requeued without counting an attempt, then completes
        runs = tmp_path / "restart-runs.txt"
        agent = start_long_task(root, "restarted", runs)
        asked_at = time.time()
        pm2("restart", pm2.app)
        pid = wait_daemon(root, pm2, old_pid=pid, after=asked_at)
        assert pid_gone(agent)
        done = wait_for(lambda: record_of(root, "restarted"), timeout=30,
                        message="restarted archived")
        assert done["status"] == "success" and done["attempts"] == 1, explain(root, "restarted")
        assert ids(root, "completed").count("restarted") == 1
        assert line_count(runs) == 2

        # 4. `pm2 stop` mid-task: no agent left behind, the task is back in the queue
        runs = tmp_path / "stop-runs.txt"
        agent = start_long_task(root, "stopped", runs)
        pm2("stop", pm2.app)
        wait_for(lambda: pm2.info().get("pm2_env", {}).get("status") == "stopped", timeout=30,
                 interval=0.2, message="PM2 to show the app stopped")
        assert pid_gone(pid) and pid_gone(agent)
        assert marker_processes(marker) == []
        queued = [t for t in queue_tasks(root) if t.get("id") == "stopped"]
        assert len(queued) == 1 and queued[0].get("attempts", 0) == 0, queued
        assert not running_task(root).get("id")
        assert record_of(root, "stopped") is None
        assert state(root).get("pid") is None
        assert pm2.info()["pm2_env"]["status"] != "errored"
    finally:
        try:
            subprocess.run([binary, "delete", pm2.app], env=pm2.env, capture_output=True,
                           timeout=60)
        finally:
            subprocess.run([binary, "kill"], env=pm2.env, capture_output=True, timeout=60)
            shutil.rmtree(home, ignore_errors=True)
        print(f"\nPM2 life cycle took {time.monotonic() - began:.1f} s")
    assert marker_processes(marker) == []
