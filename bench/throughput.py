#!/usr/bin/env python3
"""Pickup latency and end-to-end throughput of the real daemon, with a trivial agent.

    .venv/bin/python bench/throughput.py [--tasks 300] [--pickups 50]

Baseline, measured in the same run: the same agent started directly N times in a
row (what the work itself costs). Figures are printed as milliseconds and as ratios
against that baseline.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
AGENT = REPO / "bench" / "agent.py"


def wait_for(predicate, timeout: float = 300.0, interval: float = 0.002):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise SystemExit("benchmark timed out")


def count_completed(root: Path) -> int:
    try:
        return len(json.loads((root / "tasks" / "completed.json").read_text())["list"])
    except (FileNotFoundError, json.JSONDecodeError, KeyError):
        return 0


def drop(root: Path, task_id: str) -> float:
    temp = root / "inbox" / f".{task_id}.tmp"
    temp.write_text(json.dumps({"id": task_id, "prompt": "bench"}))
    moment = time.time()
    os.replace(temp, root / "inbox" / f"{task_id}.json")
    return moment


def start_daemon(root: Path) -> subprocess.Popen:
    (root / "runner.toml").write_text(
        f'[runner]\npoll_interval = 10\nhistory_limit = 1000\n[queue]\nhigh_watermark = 100000\n'
        f'low_watermark = 99999\n[agent]\ncommand = "{AGENT}"\n')
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root", str(root)],
                               cwd=REPO, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(lambda: (root / "tasks" / "state.json").exists(), timeout=30)
    return process


def started_at(root: Path, task_id: str) -> float | None:
    for record in json.loads((root / "tasks" / "completed.json").read_text())["list"]:
        if record["id"] == task_id:
            return datetime.fromisoformat(record["startedAt"]).timestamp()
    return None


def pickups(root: Path, count: int) -> list[float]:
    latencies = []
    for n in range(count):
        task_id = f"pick-{n}"
        dropped = drop(root, task_id)
        wait_for(lambda n=n: count_completed(root) >= n + 1)
        latencies.append((started_at(root, task_id) - dropped) * 1000)
    return latencies


def throughput(root: Path, count: int) -> float:
    before = count_completed(root)
    begin = time.monotonic()
    for n in range(count):
        drop(root, f"bulk-{n}")
    wait_for(lambda: count_completed(root) >= before + count)
    return time.monotonic() - begin


def baseline(count: int) -> float:
    begin = time.monotonic()
    for _ in range(count):
        subprocess.run([str(AGENT), "-p", "--output-format", "json"], input=b"bench",
                       stdout=subprocess.DEVNULL, check=True)
    return time.monotonic() - begin


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--pickups", type=int, default=50)
    args = parser.parse_args()
    direct = baseline(args.tasks)
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        daemon = start_daemon(root)
        try:
            latencies = pickups(root, args.pickups)
            total = throughput(root, args.tasks)
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=30)
    per_task = direct / args.tasks * 1000
    print(f"agent started directly, {args.tasks} times: {direct:.2f} s "
          f"({per_task:.1f} ms each) = baseline 1.00")
    print(f"pickup latency over {args.pickups} tasks (drop -> agent start): "
          f"median {statistics.median(latencies):.1f} ms, max {max(latencies):.1f} ms "
          f"({statistics.median(latencies) / per_task:.2f}x one agent run)")
    print(f"{args.tasks} trivial tasks end to end through the runner: {total:.2f} s "
          f"({total / args.tasks * 1000:.1f} ms each) = {total / direct:.2f}x baseline")


if __name__ == "__main__":
    main()
