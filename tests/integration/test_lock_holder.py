"""A writer holding queue.json.lock neither silences the heartbeat nor holds up a
SIGTERM beyond kill_grace + 5 s (D13)."""

import signal
import subprocess
import sys
import time

from helpers import DaemonProcess, drop, state, wait_for, write_settings


def test_a_held_queue_lock_keeps_the_heartbeat_and_a_prompt_stop(root, tmp_path):
    write_settings(root, "[runner]\npoll_interval = 0.3\n")
    daemon = DaemonProcess(root).start()
    ready = tmp_path / "locked"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time, pathlib\nfrom filelock import FileLock\n"
        f"lock = FileLock({str(root / 'tasks' / 'queue.json.lock')!r}); lock.acquire()\n"
        f"pathlib.Path({str(ready)!r}).touch(); time.sleep(120)")])
    try:
        wait_for(ready.exists, message="the lock holder")
        drop(root, "t.json", {"id": "blocked", "prompt": "hi"})  # the loop now waits on it
        first = wait_for(lambda: state(root).get("heartbeatAt"), message="a heartbeat")
        wait_for(lambda: state(root).get("heartbeatAt") != first, message="a later heartbeat")
        asked = time.monotonic()
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(timeout=1 + 5) == 0
        assert time.monotonic() - asked < 1 + 5
        assert (root / "inbox" / "t.json").exists()  # not admitted, not lost
    finally:
        holder.kill()
        holder.wait()
        daemon.stop()
