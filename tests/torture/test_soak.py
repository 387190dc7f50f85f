"""Soak: thousands of tasks through one daemon (5,000 with CLAUDE_RUNNER_TORTURE=big);
its open files, threads and memory stay flat. The figures are printed (-s) and
written to soak-figures.json in the test's temp folder."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from helpers import DaemonProcess, drop, records, wait_for, write_settings

from tests.torture.invariants import assert_no_corrupt_json, size


def resources(pid: int) -> dict[str, float]:
    status = dict(line.split(":", 1) for line in
                  Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return {"fds": len(os.listdir(f"/proc/{pid}/fd")), "threads": int(status["Threads"]),
            "rssMb": int(status["VmRSS"].split()[0]) / 1024}


def push(root: Path, first: int, count: int, batch: int = 50) -> None:
    for start in range(first, first + count, batch):
        tasks = [{"id": f"soak-{n}", "prompt": "p"}
                 for n in range(start, min(start + batch, first + count))]
        drop(root, f"batch-{start}.json", {"list": tasks})


@pytest.mark.timeout(size(120, 3600))
def test_thousands_of_tasks_leave_files_threads_and_memory_flat(root: Path, tmp_path: Path,
                                                                 quick_agent: Path):
    write_settings(root, f'[agent]\ncommand = "{quick_agent}"\n[runner]\nhistory_limit = 100\n'
                         "[queue]\nhigh_watermark = 100000\nlow_watermark = 99999\n")
    total = size(300, 5000)
    warm_up = total // 10
    daemon = DaemonProcess(root).start()
    done = 0

    def finished() -> int:
        return sum(path.read_text().count("\n")
                   for path in (root / "tasks" / "history").glob("*.jsonl"))

    try:
        push(root, 0, warm_up)
        wait_for(lambda: finished() >= warm_up, timeout=120, interval=0.1, message="warm-up")
        before = resources(daemon.process.pid)
        push(root, warm_up, total - warm_up)
        wait_for(lambda: finished() >= total, timeout=size(300, 3600), interval=0.2,
                 message="every task done")
        after = resources(daemon.process.pid)
        done = finished()
    finally:
        daemon.stop()
    figures = {"tasks": total, "afterWarmUp": before, "atEnd": after}
    print(json.dumps(figures))
    (tmp_path / "soak-figures.json").write_text(json.dumps(figures))
    assert done == total
    assert len(records(root, "completed")) == 100  # history_limit keeps the list bounded
    assert after["fds"] <= before["fds"] + 2, figures
    assert after["threads"] <= before["threads"] + 2, figures
    assert after["rssMb"] <= before["rssMb"] + 15, figures
    assert_no_corrupt_json(root)
