#!/usr/bin/env python3
"""Pickup latency (file dropped -> agent started) and the daemon's idle CPU.

    .venv/bin/python bench/latency.py [--pickups 100] [--idle 20]

Targets: pickup p99 < 50 ms; idle CPU < 0.2 % (the daemon's own CPU time over
`--idle` seconds with nothing to do, poll_interval = 10 as shipped).
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

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spooler import REPO, agent_script, wait_for  # noqa: E402


def started_at(root: Path, task_id: str) -> float | None:
    for path in (root / "tasks" / "history").glob("*.jsonl"):
        for line in path.read_text().splitlines():
            record = json.loads(line)
            if record["id"] == task_id:
                return datetime.fromisoformat(record["startedAt"]).timestamp()
    return None


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pickups", type=int, default=100)
    parser.add_argument("--idle", type=float, default=20.0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        root = folder / "root"
        (root / "inbox").mkdir(parents=True)
        (root / "runner.toml").write_text(f'[runner]\npoll_interval = 10\n'
                                          f'[agent]\ncommand = "{agent_script(folder)}"\n')
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        daemon = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root",
                                   str(root)], cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        try:
            wait_for(lambda: (root / "tasks" / "state.json").exists(), timeout=60)
            latencies = []
            for n in range(args.pickups):
                task_id = f"pick-{n}"
                staged = root / "inbox" / f".{task_id}.tmp"
                staged.write_text(json.dumps({"id": task_id, "prompt": "p"}))
                dropped = time.time()
                os.replace(staged, root / "inbox" / f"{task_id}.json")
                wait_for(lambda task_id=task_id: started_at(root, task_id), timeout=60)
                latencies.append((started_at(root, task_id) - dropped) * 1000)
            time.sleep(1)
            before, begin = cpu_seconds(daemon.pid), time.monotonic()
            time.sleep(args.idle)
            idle = (cpu_seconds(daemon.pid) - before) / (time.monotonic() - begin) * 100
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(timeout=60)
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"pickup over {args.pickups} drops: median {statistics.median(latencies):.1f} ms, "
          f"p99 {p99:.1f} ms, max {latencies[-1]:.1f} ms (target p99 < 50 ms)")
    print(f"idle CPU over {args.idle:.0f} s: {idle:.3f} % (target < 0.2 %)")


if __name__ == "__main__":
    main()
