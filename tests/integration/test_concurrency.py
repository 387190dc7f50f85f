"""Many producers at once (CLI, inbox, other agents editing queue.json) while the daemon
runs: every task is admitted, runs once and is archived once."""

import collections
import threading
from pathlib import Path

from helpers import (
    append_to_queue,
    cli,
    drop,
    history,
    records,
    wait_for,
    write_settings,
)

PER_PRODUCER = 15


def test_ninety_tasks_from_six_producers_each_run_exactly_once(root: Path, daemon,
                                                               tmp_path: Path) -> None:
    write_settings(root, "[queue]\nhigh_watermark = 1000\nlow_watermark = 500")
    runs = tmp_path / "runs"
    runs.mkdir()
    daemon.start()

    def prompt(task_id: str) -> str:
        return f"@append {runs / task_id}\n{task_id}"

    failures: list[str] = []

    def add_loop(number: int) -> None:
        for i in range(PER_PRODUCER):
            task_id = f"cli-{number}-{i}"
            done = cli(root, "add", prompt(task_id), "--id", task_id)
            if done.returncode != 0 or done.stdout.strip() != task_id:
                failures.append(f"add {task_id}: {done.returncode} {done.stderr}")

    def inbox_writer(number: int) -> None:
        for i in range(PER_PRODUCER):
            task_id = f"inbox-{number}-{i}"
            drop(root, f"{task_id}.json", {"prompt": prompt(task_id), "id": task_id})

    def queue_writer() -> None:
        for i in range(PER_PRODUCER):
            task_id = f"agent-{i}"
            append_to_queue(root, {"prompt": prompt(task_id), "id": task_id})

    producers = [threading.Thread(target=add_loop, args=(n,)) for n in range(3)]
    producers += [threading.Thread(target=inbox_writer, args=(n,)) for n in range(2)]
    producers.append(threading.Thread(target=queue_writer))
    for thread in producers:
        thread.start()
    for thread in producers:
        thread.join(timeout=90)
    assert not failures, failures

    expected = {f"cli-{n}-{i}" for n in range(3) for i in range(PER_PRODUCER)}
    expected |= {f"inbox-{n}-{i}" for n in range(2) for i in range(PER_PRODUCER)}
    expected |= {f"agent-{i}" for i in range(PER_PRODUCER)}
    assert len(expected) == 90
    wait_for(lambda: len(records(root, "completed")) >= 90, timeout=90,
             message="90 completed records")
    # completed.json is written first, then the history line
    wait_for(lambda: len(history(root)) >= 90, timeout=5, message="90 history lines")
    completed = collections.Counter(r["id"] for r in records(root, "completed"))
    assert set(completed) == expected and set(completed.values()) == {1}, completed
    assert all(r["status"] == "success" for r in records(root, "completed"))
    assert not records(root, "failed")
    lines = history(root)
    assert len(lines) == 90 and {r["id"] for r in lines} == expected
    ran = {path.name: len(path.read_text().splitlines()) for path in runs.iterdir()}
    assert ran == dict.fromkeys(expected, 1)
    assert not list((root / "inbox").glob("*.json"))
    assert not (root / "inbox" / "rejected").exists() or not any(
        (root / "inbox" / "rejected").iterdir())
