"""A usage limit pauses every run until the reset; the attempt does not count."""

import signal
import time
from pathlib import Path

from helpers import (
    DaemonProcess,
    drop,
    holds,
    parse_time,
    queue_tasks,
    record_of,
    running_id,
    state,
    status_json,
    wait_for,
    write_settings,
)


def limit_text(reset: int) -> str:
    return f"Claude AI usage limit reached|{reset}"


def test_usage_limit_pauses_until_the_reset(root: Path, daemon, tmp_path: Path) -> None:
    write_settings(root, "[runner]\nusage_limit_margin = 0")
    daemon.start()
    reset = int(time.time()) + 4
    runs_a, runs_b = tmp_path / "a.runs", tmp_path / "b.runs"
    drop(root, "jobs.json", {"list": [
        {"id": "limited", "prompt": f"@append {runs_a}\n"
                                    f"@usage-limit-once {tmp_path / 'limit.once'} "
                                    f"{limit_text(reset)}"},
        {"id": "behind", "prompt": f"@append {runs_b}"},
    ]})

    paused = wait_for(lambda: state(root).get("pausedUntil"), message="pausedUntil in state.json")
    assert abs(parse_time(paused) - reset) < 0.01  # the reset itself: usage_limit_margin = 0
    shown = status_json(root)["pausedUntil"]
    assert shown and parse_time(shown) == parse_time(paused)
    wait_for(lambda: running_id(root) is None, timeout=5, message="the limited attempt ended")
    queued = queue_tasks(root)
    assert [t["id"] for t in queued] == ["limited", "behind"]
    assert queued[0].get("attempts", 0) == 0
    assert record_of(root, "limited") is None

    # the daemon keeps looking while paused (it admits new work) but starts nothing
    runs_c = tmp_path / "c.runs"
    drop(root, "during.json", {"id": "during", "prompt": f"@append {runs_c}"})
    wait_for(lambda: "during" in [t["id"] for t in queue_tasks(root)], timeout=3,
             message="a file dropped during the pause admitted")
    holds(lambda: running_id(root) is None and not runs_b.exists() and not runs_c.exists()
          and len(runs_a.read_text().splitlines()) == 1,
          max(0.0, reset - time.time() - 0.3), message="nothing runs while paused")

    for task_id in ("limited", "behind", "during"):
        record = wait_for(lambda t=task_id: record_of(root, t), timeout=15,
                          message=f"{task_id} done after the reset")
        assert record["status"] == "success", daemon.output()
        assert parse_time(record["startedAt"]) >= reset - 0.01
    assert record_of(root, "limited")["attempts"] == 1
    assert len(runs_a.read_text().splitlines()) == 2
    assert len(runs_b.read_text().splitlines()) == 1
    assert status_json(root)["pausedUntil"] is None


def test_pause_survives_a_restart(root: Path, daemon, tmp_path: Path) -> None:
    write_settings(root, "[runner]\nusage_limit_margin = 0")
    daemon.start()
    runs = tmp_path / "runs"
    reset = int(time.time()) + 3600
    drop(root, "limited.json", {"id": "limited", "prompt": f"@append {runs}\n"
                                                           f"@usage-limit {limit_text(reset)}"})
    paused = wait_for(lambda: state(root).get("pausedUntil"), message="pausedUntil in state.json")
    wait_for(lambda: running_id(root) is None, timeout=5, message="the limited attempt ended")
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=10) == 0
    assert state(root).get("pausedUntil") == paused

    restarted = DaemonProcess(root).start()
    try:
        assert state(root).get("pausedUntil") == paused
        status = status_json(root)
        assert status["daemon"]["alive"] is True
        assert parse_time(status["pausedUntil"]) == parse_time(paused)
        drop(root, "after.json", {"id": "after", "prompt": f"@append {runs}"})
        wait_for(lambda: "after" in [t["id"] for t in queue_tasks(root)],
                 message="the restarted daemon looked (admitted a new file)")
        holds(lambda: running_id(root) is None and len(runs.read_text().splitlines()) == 1,
              1.0, message="still paused after the restart")
        queued = queue_tasks(root)
        assert [t["id"] for t in queued] == ["limited", "after"]
        assert queued[0].get("attempts", 0) == 0
        assert state(root).get("pausedUntil") == paused
    finally:
        restarted.stop()
