from helpers import cli, record_of, wait_for, write_json


def test_dropped_file_runs_and_is_archived(root, daemon):
    daemon.start()
    write_json(root / "inbox" / "job.json", {"prompt": "hello", "id": "job-1", "role": "coach"})
    record = wait_for(lambda: record_of(root, "job-1"), message="job-1 archived")
    assert record["status"] == "success", daemon.output()
    assert cli(root, "status").returncode == 0
