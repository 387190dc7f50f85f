#!/usr/bin/env python3
"""Pickup latency with no notification target, a dead one, and one that hangs.

    .venv/bin/python bench/notify_latency.py [--pickups 30]

Every task fails (so every task makes a `task_failed` notification); the figure is
the time from dropping the task file to the agent's start, as in throughput.py.
Baseline, measured in the same run: the daemon without `[notify] urls`. A dead
target is a closed port on 127.0.0.1; a hanging one accepts and never answers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FAILING_AGENT = '#!/usr/bin/env python3\nimport sys\nsys.stdin.read()\nprint(\'{"type":' \
    '"result","subtype":"success","is_error":true,"result":"no","total_cost_usd":0}\')\n' \
    'sys.exit(1)\n'


def wait_for(predicate, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.002)
    raise SystemExit("benchmark timed out")


def failed_start(root: Path, task_id: str) -> float | None:
    try:
        records = json.loads((root / "tasks" / "failed.json").read_text())["list"]
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return None
    for record in records:
        if record["id"] == task_id:
            return datetime.fromisoformat(record["startedAt"]).timestamp()
    return None


def run(label: str, notify: str, pickups: int) -> list[float]:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        agent = root / "agent.py"
        agent.write_text(FAILING_AGENT)
        agent.chmod(0o755)
        (root / "runner.toml").write_text(
            f'[runner]\npoll_interval = 10\nmax_retries = 0\n[agent]\ncommand = "{agent}"\n'
            f'{notify}')
        daemon = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root", str(root)],
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: (root / "tasks" / "state.json").exists(), timeout=30)
            latencies = []
            for n in range(pickups):
                temp = root / "inbox" / f".t{n}.tmp"
                temp.write_text(json.dumps({"id": f"t{n}", "prompt": "fail"}))
                dropped = time.time()
                os.replace(temp, root / "inbox" / f"t{n}.json")
                started = wait_for(lambda n=n: failed_start(root, f"t{n}"))
                latencies.append((started - dropped) * 1000)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    print(f"{label:<34} median {statistics.median(latencies):6.1f} ms, "
          f"max {max(latencies):6.1f} ms")
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pickups", type=int, default=30)
    args = parser.parse_args()
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    hanging = socket.socket()
    hanging.bind(("127.0.0.1", 0))
    hanging.listen(1000)  # accepts connections (in the backlog), never answers
    hang_port = hanging.getsockname()[1]
    base = run("no notification target (baseline)", "", args.pickups)
    dead = run("dead target (closed port)",
               f'[notify]\nurls = ["json://127.0.0.1:{dead_port}/x"]\nretry_delay = 1\n',
               args.pickups)
    hung = run("hanging target (never answers)",
               f'[notify]\nurls = ["json://127.0.0.1:{hang_port}/x"]\ntimeout = 30\n',
               args.pickups)
    hanging.close()
    median = statistics.median(base)
    print(f"ratios of the median to the baseline: dead {statistics.median(dead) / median:.2f}, "
          f"hanging {statistics.median(hung) / median:.2f}")


if __name__ == "__main__":
    main()
