#!/usr/bin/env python3
"""cProfile of the daemon's per-task path: the loop thread and the agent waiter threads.

    .venv/bin/python bench/profile_daemon.py [--tasks 300] [--top 30]

Runs the real daemon (in this process, profiled per thread) over N trivial tasks
with the shell agent of bench/spooler.py and prints the top functions by own time
and by cumulative time for each thread kind.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from spooler import agent_script, completed, wait_for  # noqa: E402


def profiled(method, profile: cProfile.Profile):  # noqa: ANN001, ANN201
    def run(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        profile.enable()
        try:
            return method(*args, **kwargs)
        finally:
            profile.disable()
    return run


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=300)
    parser.add_argument("--top", type=int, default=30)
    args = parser.parse_args()
    from pipeline.cli.main import main as cli
    from pipeline.daemon.daemon import Daemon
    from pipeline.execution.agent_process import AgentProcess

    loop, waiter = cProfile.Profile(), cProfile.Profile()
    Daemon._loop = profiled(Daemon._loop, loop)
    AgentProcess._wait = profiled(AgentProcess._wait, waiter)
    with tempfile.TemporaryDirectory() as name:
        root = Path(name) / "root"
        (root / "inbox").mkdir(parents=True)
        agent = agent_script(Path(name))
        (root / "runner.toml").write_text(
            f'[queue]\nhigh_watermark = 1000000\nlow_watermark = 999999\n'
            f'[agent]\ncommand = "{agent}"\n')

        def feed() -> None:
            wait_for(lambda: (root / "tasks" / "state.json").exists(), timeout=60)
            tasks = [{"id": f"t-{n}", "prompt": "bench"} for n in range(args.tasks)]
            (root / "inbox" / ".b.tmp").write_text(json.dumps({"list": tasks}))
            begin = time.monotonic()
            os.replace(root / "inbox" / ".b.tmp", root / "inbox" / "b.json")
            wait_for(lambda: completed(root) >= args.tasks)
            print(f"{args.tasks} tasks: {(time.monotonic() - begin) / args.tasks * 1000:.2f} "
                  "ms per task (profiled)")
            os.kill(os.getpid(), signal.SIGTERM)

        threading.Thread(target=feed, daemon=True).start()
        cli(["run", "--root", str(root)])
    for title, profile in (("loop thread", loop), ("agent waiter threads", waiter)):
        print(f"\n===== {title}: by own time")
        pstats.Stats(profile).sort_stats("tottime").print_stats(args.top)
        print(f"===== {title}: by cumulative time")
        pstats.Stats(profile).sort_stats("cumulative").print_stats(args.top)


if __name__ == "__main__":
    main()
