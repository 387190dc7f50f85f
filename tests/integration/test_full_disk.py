"""A full disk: nothing is lost, the daemon stays up, and work resumes once there is room."""

import contextlib
import os
import subprocess
from pathlib import Path

import pytest
from helpers import DaemonProcess, cli, read_json, record_of, wait_for, write_settings


@pytest.fixture
def small_disk(tmp_path: Path):
    mount = tmp_path / "disk"
    mount.mkdir()
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)],
                          capture_output=True)
    if done.returncode:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.decode().strip()}")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path) -> Path:
    filler = folder / "filler.bin"
    with open(filler, "wb") as handle, contextlib.suppress(OSError):
        while True:
            handle.write(b"\0" * 65536)
            handle.flush()
    return filler


def test_full_disk_loses_nothing_and_recovers(small_disk: Path, tmp_path: Path):
    root = small_disk
    write_settings(root, "[runner]\npoll_interval = 1")
    daemon = DaemonProcess(root, output=tmp_path / "daemon-output.txt").start()
    try:
        job = {"id": "on-full-disk", "prompt": "still here"}
        staged = root / "inbox" / ".job.json.tmp"
        staged.write_text(str(job).replace("'", '"'))
        filler = fill(root / "tasks")
        os.rename(staged, root / "inbox" / "job.json")
        # the queue cannot be written: the file waits in inbox/, the daemon stays alive
        wait_for(lambda: "cannot admit job.json" in daemon.output(), message="the error logged")
        assert (root / "inbox" / "job.json").exists()
        assert daemon.process.poll() is None
        refused = cli(root, "add", "also-refused")
        assert refused.returncode == 1 and "No space left" in refused.stderr
        assert "Traceback" not in refused.stderr
        filler.unlink()
        record = wait_for(lambda: record_of(root, "on-full-disk"), message="admitted and run")
        assert record["status"] == "success"
        wait_for(lambda: read_json(root / "tasks" / "running.json") == {},
                 message="running.json cleared after the record")
    finally:
        daemon.stop()
