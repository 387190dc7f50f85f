"""A crash while the agent runs, and the agent finishes before the runner is back:
its result is taken from the task log, and the work is not done twice."""

import os
import signal

from helpers import DaemonProcess, read_json, record_of, wait_for, write_json


def test_a_result_written_while_the_runner_was_down_is_kept(root, daemon):
    runs = root / "runs.txt"
    release = root / "release"
    daemon.start()
    prompt = f"@append {runs}\n@wait-for {release}\nshort job"
    write_json(root / "inbox" / "job.json", {"id": "short", "prompt": prompt})
    wait_for(lambda: runs.exists(), message="the agent started")
    agent_pid = read_json(root / "tasks" / "running.json")["pid"]
    daemon.signal(signal.SIGKILL)
    daemon.wait()
    release.touch()
    wait_for(lambda: not _alive(agent_pid), message="the orphaned agent finished")
    restarted = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, "short"), message="the record")
        assert record["status"] == "success" and record["attempts"] == 1
        assert len(runs.read_text().splitlines()) == 1
        wait_for(lambda: read_json(root / "tasks" / "running.json") == {},
                 message="running.json cleared after the record")
    finally:
        restarted.stop()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie (already exited, not yet reaped by init) counts as gone
        return "zombie" not in open(f"/proc/{pid}/status").read().lower()
    except OSError:
        return False
