"""A damaged running.json is never overwritten: it is kept aside and its task is
recovered as far as the file can still be read (D7)."""

from helpers import DaemonProcess, queue_ids, record_of, wait_for


def test_a_torn_running_json_is_kept_and_its_task_runs_again(root):
    torn = (b'{\n  "id": "torn1",\n  "prompt": "hello again",\n  "attempt": 1,\n'
            b'  "startedAt": "2026-11-25T12:00:01+00:00",\n  "pid": 12')
    (root / "tasks").mkdir(parents=True, exist_ok=True)
    (root / "tasks" / "running.json").write_bytes(torn)
    daemon = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, "torn1"), message="torn1 done")
        assert record["status"] == "success" and record["attempts"] == 2
        [aside] = list((root / "tasks").glob("running.json.damaged-*"))
        assert aside.read_bytes() == torn
        assert "running.json cannot be parsed" in (root / "logs" / "runner.jsonl").read_text()
    finally:
        daemon.stop()


def test_only_an_id_left_gives_a_failed_record_with_the_reason(root):
    (root / "tasks").mkdir(parents=True, exist_ok=True)
    (root / "tasks" / "running.json").write_bytes(b'{"id": "torn2", "pro')
    daemon = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, "torn2"), message="torn2 archived")
        assert record["status"] == "failed" and "running.json was damaged" in record["error"]
        assert "torn2" not in queue_ids(root)
        assert list((root / "tasks").glob("running.json.damaged-*"))
    finally:
        daemon.stop()
