import json

from helpers import cli, record_of, wait_for, write_json, write_settings


def test_dropped_file_runs_and_is_archived(root, daemon):
    daemon.start()
    write_json(root / "inbox" / "job.json", {"prompt": "hello", "id": "job-1", "role": "coach"})
    record = wait_for(lambda: record_of(root, "job-1"), message="job-1 archived")
    assert record["status"] == "success", daemon.output()
    assert cli(root, "status").returncode == 0


def test_an_idle_daemon_keeps_its_heartbeat(root, daemon):
    """No file ever arrives: the poll still wakes the loop, so `status` sees it alive."""
    write_settings(root, "[runner]\npoll_interval = 0.3")
    daemon.start()
    beats = root / "logs" / "heartbeats"
    wait_for(lambda: sum(len(p.read_text().splitlines()) for p in beats.glob("*.txt")) >= 4,
             timeout=10, message="heartbeats while idle")
    assert json.loads(cli(root, "status", "--json").stdout)["daemon"]["alive"] is True
