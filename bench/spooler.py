#!/usr/bin/env python3
"""Per-task time of the runner against task-spooler on the same agent script.

    .venv/bin/python bench/spooler.py [--tasks 300] [--queued 0]

Both drain a queue of N trivial tasks (a shell script that answers like
`claude -p --output-format json`), measured in the same run: task-spooler (`tsp`,
Debian package task-spooler: in memory, nothing on disk survives a crash) and the
runner (every transition on disk, fsynced). `--queued 10000` first fills the
runner's queue with that many tasks not yet ready (flat-at-scale check).
Target: runner <= 1.5x task-spooler.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
ANSWER = ('{"type":"result","subtype":"success","is_error":false,"result":"ok",'
          '"session_id":"b","num_turns":1,"total_cost_usd":0}')


def agent_script(folder: Path) -> Path:
    agent = folder / "agent.sh"
    agent.write_text(f"#!/bin/sh\ncat >/dev/null\necho '{ANSWER}'\n")
    agent.chmod(0o755)
    return agent


def wait_for(predicate, timeout: float = 900.0, interval: float = 0.005):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(interval)
    raise SystemExit("benchmark timed out")


def spooler(agent: Path, count: int, folder: Path) -> float:
    binary = shutil.which("tsp") or shutil.which("ts")
    if not binary:
        raise SystemExit("task-spooler not installed: apt-get install task-spooler")
    env = {**os.environ, "TS_SOCKET": str(folder / "ts.socket"), "TS_MAXFINISHED": "100000",
           "TMPDIR": str(folder)}
    subprocess.run([binary, "-S", "1"], env=env, check=True, capture_output=True)
    begin = time.monotonic()
    last = ""
    for _ in range(count):
        last = subprocess.run([binary, str(agent)], env=env, check=True,
                              capture_output=True, text=True).stdout.strip()
    subprocess.run([binary, "-w", last], env=env, check=False, capture_output=True)
    elapsed = time.monotonic() - begin
    subprocess.run([binary, "-K"], env=env, check=False, capture_output=True)
    return elapsed


def completed(root: Path) -> int:
    total = 0
    for path in (root / "tasks" / "history").glob("*.jsonl"):
        total += path.read_bytes().count(b"\n")
    return total


def runner(agent: Path, count: int, queued: int, folder: Path) -> float:
    root = folder / "root"
    (root / "tasks").mkdir(parents=True)
    (root / "inbox").mkdir()
    (root / "runner.toml").write_text(
        f'[runner]\npoll_interval = 10\n[queue]\nhigh_watermark = 1000000\n'
        f'low_watermark = 999999\n[agent]\ncommand = "{agent}"\n')
    if queued:  # waiting tasks the run order must skip
        later = [{"id": f"later-{n}", "prompt": "later", "notBefore": "2099-01-01T00:00:00Z",
                  "createdAt": "2026-01-01T00:00:00Z"} for n in range(queued)]
        (root / "tasks" / "queue.json").write_text(json.dumps({"list": later}, indent=2))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    daemon = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root", str(root)],
                              cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env=env)
    try:
        wait_for(lambda: (root / "tasks" / "state.json").exists(), timeout=60)
        tasks = [{"id": f"t-{n}", "prompt": "bench"} for n in range(count)]
        begin = time.monotonic()
        staged = root / "inbox" / ".batch.tmp"
        staged.write_text(json.dumps({"list": tasks}))
        os.replace(staged, root / "inbox" / "batch.json")
        wait_for(lambda: completed(root) >= count)
        return time.monotonic() - begin
    finally:
        daemon.send_signal(signal.SIGTERM)
        daemon.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--queued", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        agent = agent_script(folder)
        ts = spooler(agent, args.tasks, folder)
        ours = runner(agent, args.tasks, args.queued, folder)
    per_ts, per_ours = ts / args.tasks * 1000, ours / args.tasks * 1000
    print(f"{args.tasks} tasks, same agent script ({args.queued} other tasks queued)")
    print(f"  task-spooler  {per_ts:6.2f} ms per task")
    print(f"  claude-runner {per_ours:6.2f} ms per task = {per_ours / per_ts:.2f}x task-spooler")


if __name__ == "__main__":
    main()
