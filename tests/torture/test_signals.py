"""SIGINT / SIGTERM while an agent that ignores both runs, with grandchildren that
escaped into sessions of their own: the daemon exits 0 within kill_grace + 5 s, no
process of the run is left, and the task is back at the head, uncounted."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import pytest
from helpers import pid_gone, queue_tasks, running_task, wait_for


def pids(path: Path) -> list[int]:
    return [int(x) for x in path.read_text().split()] if path.exists() else []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_stop_ends_a_stubborn_agent_and_everything_it_started(root, daemon, tmp_path, sig):
    daemon.start()  # kill_grace = 1 s
    orphans, stubborn = tmp_path / "orphans", tmp_path / "stubborn"
    prompt = f"@orphan {orphans}\n@orphan {orphans}\n@ignore-term {stubborn}"
    (root / "inbox" / "s.json").write_text(f'{{"id": "stub", "prompt": {prompt!r}}}'
                                           .replace("'", '"').replace("\n", "\\n"))
    wait_for(lambda: len(pids(stubborn)) == 2, message="the stubborn agent and its child")
    wait_for(lambda: running_task(root).get("pid"), message="the pid recorded")
    everyone = pids(orphans) + pids(stubborn)
    assert len(everyone) == 4

    asked = time.monotonic()
    daemon.signal(sig)
    assert daemon.wait(timeout=1 + 5) == 0
    assert time.monotonic() - asked < 1 + 5
    for pid in everyone:
        assert wait_for(lambda pid=pid: pid_gone(pid), timeout=2, message=f"{pid} gone")
    queued = queue_tasks(root)
    assert queued[0]["id"] == "stub" and queued[0].get("attempts", 0) == 0
    assert not running_task(root).get("id")
