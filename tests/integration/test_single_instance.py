"""Deleting tasks/daemon.lock does not let a second daemon run beside the first (D21)."""

from helpers import DaemonProcess, drop, record_of, wait_for


def test_a_deleted_lock_file_does_not_admit_a_second_daemon(root, daemon):
    daemon.start()
    (root / "tasks" / "daemon.lock").unlink()
    second = DaemonProcess(root, output=root / "second.txt").start(wait=False)
    try:
        assert second.wait(timeout=20) == 1
        assert "another daemon already runs" in second.output()
    finally:
        second.stop()
    drop(root, "t.json", {"id": "still", "prompt": "hi"})  # the first one still works
    assert wait_for(lambda: record_of(root, "still"), message="still done")["status"] == "success"
