#!/usr/bin/env python3
"""Whole-process time of the CLI against the interpreter's own start-up.

    .venv/bin/python bench/cli_startup.py [--runs 30] [--queued 10000] [--history 100000]

Each command is run `--runs` times as a fresh process (interleaved, so a burst of
load hits all alike); the figure is the median wall time, and the ratio is against
`python -c pass` measured in the same run. Target: queue check, add and status within
2.5x of `python -c pass`; with 10,000 queued within 1.5x of an empty root, with
100,000 history lines within 1.2x.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def commands(root: Path) -> dict[str, list[str]]:
    cli = [sys.executable, "-m", "pipeline", "--root", str(root)]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "queue check": cli + ["queue", "check"],
        "add": cli + ["add", "--priority", "high", "benchmark task"],
        "status": cli + ["status"],
        "list queue": cli + ["list", "queue", "-n", "5"],
    }


def fill(root: Path, queued: int, history: int) -> None:
    (root / "tasks" / "history").mkdir(parents=True, exist_ok=True)
    tasks = [{"id": f"q-{n}", "prompt": f"task {n}", "createdAt": "2026-11-25T12:00:00+00:00"}
             for n in range(queued)]
    (root / "tasks" / "queue.json").write_text(json.dumps({"list": tasks}, indent=2))
    if history:
        day = time.strftime("%Y-%m-%d")
        line = json.dumps({"id": "h", "status": "success", "prompt": "x"})
        (root / "tasks" / "history" / f"{day}.jsonl").write_text((line + "\n") * history)


def measure(roots: list[Path], runs: int) -> list[dict[str, float]]:
    # as installed: with bytecode caches (a first run writes them; not timed)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    timings = [{name: [] for name in commands(root)} for root in roots]
    for warm_up in [True] + [False] * runs:
        for root, table in zip(roots, timings, strict=True):
            for name, argv in commands(root).items():
                begin = time.perf_counter()
                subprocess.run(argv, cwd=REPO, stdout=subprocess.DEVNULL, env=env,
                               stderr=subprocess.DEVNULL, check=False)
                if not warm_up:
                    table[name].append(time.perf_counter() - begin)
    return [{name: statistics.median(values) * 1000 for name, values in table.items()}
            for table in timings]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--queued", type=int, default=0,
                        help="also measure a root with this many queued tasks")
    parser.add_argument("--history", type=int, default=0,
                        help="also measure a root with this many history lines today")
    args = parser.parse_args()
    sizes = [(0, 0)] + ([(args.queued, args.history)] if args.queued or args.history else [])
    with tempfile.TemporaryDirectory() as folder:
        roots = []
        for number, (queued, history) in enumerate(sizes):
            root = Path(folder) / f"root{number}"
            root.mkdir()
            (root / "runner.toml").write_text("[queue]\nhigh_watermark = 1000000\n"
                                              "low_watermark = 999999\n")
            fill(root, queued, history)
            roots.append(root)
        figures = measure(roots, args.runs)
    floor = figures[0]["python -c pass"]
    print(f"median of {args.runs} runs each, interleaved")
    for (queued, history), table in zip(sizes, figures, strict=True):
        print(f"{queued} queued, {history} history lines today:")
        for name, value in table.items():
            line = f"  {name:<15} {value:7.1f} ms  {value / floor:5.2f}x python -c pass"
            if (queued or history) and name != "python -c pass":
                line += f"  {value / figures[0][name]:5.2f}x the empty root"
            print(line)


if __name__ == "__main__":
    main()
