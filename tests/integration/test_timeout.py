"""A task over its timeout is ended: SIGTERM to its process group, SIGKILL after kill_grace."""

from pathlib import Path

from helpers import drop, pid_gone, record_of, wait_for


def test_timeout_kills_the_whole_group_even_when_sigterm_is_ignored(root: Path, daemon,
                                                                    tmp_path: Path) -> None:
    daemon.start()  # kill_grace = 1 s in tests
    pid_file = tmp_path / "pids.txt"
    drop(root, "slow.json", {"prompt": f"@ignore-term {pid_file}", "id": "too-slow",
                             "timeout": 1500, "maxRetries": 0})
    pids = wait_for(lambda: pid_file.exists() and [int(p) for p in pid_file.read_text().split()],
                    message="both pids written")
    assert len(pids) == 2
    assert not any(pid_gone(pid) for pid in pids), "the agent should still run before 1.5 s"

    record = wait_for(lambda: record_of(root, "too-slow"), timeout=15, message="too-slow archived")
    assert record["status"] == "failed"
    assert record["outcome"] == "timeout"
    assert record["attempts"] == 1
    assert record["durationMs"] >= 1500
    # SIGTERM is ignored, so only the SIGKILL after kill_grace (1 s) ends them
    assert record["durationMs"] >= 1500 + 900
    wait_for(lambda: all(pid_gone(pid) for pid in pids), timeout=3,
             message=f"agent {pids[0]} and its child {pids[1]} gone")
