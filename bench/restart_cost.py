#!/usr/bin/env python3
"""What a `pm2 restart` in the middle of a task costs in agent time, with and without resume.

    .venv/bin/python bench/restart_cost.py [--work 20] [--restart-at 10]

The agent is tests/support/fake_agent.py doing `--work` seconds of work in 0.1 s steps,
each step saved in its session (as Claude Code saves each turn of its transcript). After
`--restart-at` seconds the runner is restarted the way PM2 does it: SIGINT to the agent,
then to the runner, then a new runner. "Agent time" is the time agents of the task ran
(from the task log's attempt headers and the record), against the baseline: the same
task run without a restart, measured in the same run. "Thrown away" counts the work steps
the agents did beyond those the task needed (each 0.1 s of agent time; exact, unlike the
wall-clock figures, which move with the machine's load). Measured once with
`resume = false` (the old behaviour: the task starts again from scratch) and once with the
default `resume = true`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from throughput import wait_for  # bench/ is on sys.path when a script here runs

REPO = Path(__file__).resolve().parents[1]
AGENT = REPO / "tests" / "support" / "fake_agent.py"
HEADER = re.compile(r"===== attempt \d+ at (\S+): ")


def read(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def start(root: Path, env: dict[str, str]) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root", str(root)],
                               cwd=REPO, env=env, stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL)
    wait_for(lambda: read(root / "tasks" / "state.json").get("pid") == process.pid
             and read(root / "tasks" / "state.json").get("heartbeatAt"))
    return process


def measure(resume: bool, work: float, restart_at: float | None) -> tuple[float, int, int]:
    """(agent seconds, work steps done, resumes) for one task and one restart (none:
    restart_at None)."""
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        (root / "runner.toml").write_text(
            f'[runner]\nkill_grace = 2\nresume = {str(resume).lower()}\n'
            f'[agent]\ncommand = "{AGENT}"\n')
        env = {**os.environ, "FAKE_AGENT_SESSIONS": str(root / "sessions")}
        daemon = start(root, env)
        (root / "inbox" / "job.json").write_text(json.dumps(
            {"id": "job", "prompt": f"@work {root / 'worked'} {work}"}))
        entry = wait_for(lambda: (e := read(root / "tasks" / "running.json")).get("pid") and e)
        if restart_at is None:
            return finish(root, daemon, None)
        time.sleep(restart_at)
        stopped_at = time.time()
        os.kill(entry["pid"], signal.SIGINT)          # what PM2 does: every descendant...
        daemon.send_signal(signal.SIGINT)             # ...then the runner
        daemon.wait(timeout=30)
        return finish(root, start(root, env), stopped_at)


def finish(root: Path, daemon: subprocess.Popen,
           stopped_at: float | None) -> tuple[float, int, int]:
    record = wait_for(lambda: next((r for r in read(root / "tasks" / "completed.json")
                                    .get("list", []) if r["id"] == "job"), None))
    daemon.send_signal(signal.SIGTERM)
    daemon.wait(timeout=30)
    log = (root / "logs" / "tasks" / "job.log").read_text()
    first = datetime.fromisoformat(HEADER.findall(log)[0]).timestamp()
    before = (stopped_at - first) if stopped_at else 0.0
    steps = len((root / "worked").read_text().splitlines())
    return before + record["durationMs"] / 1000, steps, record.get("resumes", 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=float, default=20.0)
    parser.add_argument("--restart-at", type=float, default=10.0)
    args = parser.parse_args()
    baseline, needed, _ = measure(True, args.work, None)
    print(f"baseline: the task ({needed} steps of 0.1 s) without a restart: {baseline:.1f} s "
          "of agent time")
    for resume in (False, True):
        agent, steps, resumes = measure(resume, args.work, args.restart_at)
        print(f"resume = {str(resume).lower():5}: restarted after {args.restart_at:g} s: "
              f"{agent:.1f} s of agent time (+{agent - baseline:.1f} s), {steps - needed} steps "
              f"= {(steps - needed) / 10:.1f} s of work thrown away ({resumes} resume)")


if __name__ == "__main__":
    main()
