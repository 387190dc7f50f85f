"""Crash chaos: tasks flow in through the inbox, the CLI and locked queue writes while
the daemon is kill -9'ed at random moments and restarted. Nothing is lost, nothing is
archived twice, the agent runs at most once more per kill, no JSON is damaged."""

from __future__ import annotations

import random
import signal
import threading
import time
from pathlib import Path

from helpers import (
    DaemonProcess,
    append_to_queue,
    cli,
    drop,
    record_of,
    running_task,
    wait_for,
    write_settings,
)

from tests.torture.invariants import assert_each_archived_once, assert_no_corrupt_json, size


class Producers:
    """Three producers on a thread, each submitting its share of task ids."""

    def __init__(self, root: Path, runs: Path, count: int) -> None:
        self.root, self.runs, self.count = root, runs, count
        self.submitted: set[str] = set()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def prompt(self, task_id: str) -> str:
        return f"{self.runs}\n{task_id}"

    def _run(self) -> None:
        for n in range(self.count):
            task_id = f"chaos-{n}"
            way = n % 3
            if way == 0:
                drop(self.root, f"{task_id}.json", {"id": task_id, "prompt": self.prompt(task_id)})
            elif way == 1:
                done = cli(self.root, "add", "--id", task_id, self.prompt(task_id))
                assert done.returncode == 0, done.stderr
            else:
                append_to_queue(self.root, {"id": task_id, "prompt": self.prompt(task_id)})
            self.submitted.add(task_id)
            time.sleep(random.uniform(0, 0.05))


def test_random_kill_9_loses_and_doubles_nothing(root: Path, tmp_path: Path,
                                                counting_agent: Path) -> None:
    write_settings(root, f"[agent]\ncommand = \"{counting_agent}\"\n"
                         "[runner]\nmax_retries = 50\nretry_delay = 0.01\n"
                         "[queue]\nhigh_watermark = 100000\nlow_watermark = 99999\n")
    runs = tmp_path / "runs.txt"
    count, kills = size(60, 600), size(15, 65)
    for folder in ("inbox", "tasks"):
        (root / folder).mkdir(exist_ok=True)
    producers = Producers(root, runs, count)
    producers.thread.start()
    rng = random.Random(9)
    for _ in range(kills):
        daemon = DaemonProcess(root, output=tmp_path / "daemon.txt").start()
        time.sleep(rng.uniform(0.05, 0.6))
        daemon.signal(signal.SIGKILL)
        daemon.wait(timeout=10)
    producers.thread.join(timeout=120)
    assert not producers.thread.is_alive()

    final = DaemonProcess(root, output=tmp_path / "daemon.txt").start()
    try:
        ids = producers.submitted
        wait_for(lambda: all(record_of(root, i) for i in ids), timeout=size(120, 900),
                 interval=0.2, message="every task archived")
        wait_for(lambda: not running_task(root).get("id"), message="running.json cleared")
    finally:
        final.stop()
    assert len(ids) == count
    assert_each_archived_once(root, ids)
    executions = runs.read_text().splitlines()
    assert len(ids) <= len(executions) <= len(ids) + kills, (len(executions), kills)
    assert_no_corrupt_json(root)
