"""A full disk, again and again while tasks arrive: nothing is truncated or lost, and
work resumes each time space returns."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DaemonProcess, record_of, running_task, wait_for, write_settings

from tests.torture.invariants import assert_each_archived_once, assert_no_corrupt_json, size

SIMULATE = """
import errno, os
_fsync = os.fsync
def fsync(fd):
    if os.path.exists({flag!r}):
        raise OSError(errno.ENOSPC, "No space left on device (simulated)")
    return _fsync(fd)
os.fsync = fsync
"""


class Disk:
    def __init__(self, root: Path, flag: Path | None) -> None:
        self.root, self.flag = root, flag
        self.filler = root / "tasks" / "filler.bin"

    def fill(self) -> None:
        if self.flag:
            self.flag.touch()
            return
        with contextlib.suppress(OSError), open(self.filler, "wb") as handle:  # the close too
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()

    def free(self) -> None:
        if self.flag:
            self.flag.unlink()
        else:
            self.filler.unlink()


@pytest.fixture(params=["tmpfs", "simulated"])
def disk(request, tmp_path: Path, quick_agent: Path) -> Iterator[tuple[Disk, dict[str, str]]]:
    """A real small tmpfs (skipped unless it can be mounted), and ENOSPC simulated on
    every fsync of the daemon (a write that lands but cannot be made durable)."""
    mount = tmp_path / "disk"
    mount.mkdir()
    mounted = False
    if request.param == "tmpfs":
        if os.geteuid() != 0:
            pytest.skip("mounting a small tmpfs needs root (the simulated case runs)")
        mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs",
                                  str(mount)], capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("cannot mount a tmpfs here (the simulated case runs)")
    env: dict[str, str] = {}
    flag = None
    if not mounted:
        flag = tmp_path / "disk-full"
        hook = tmp_path / "hook"
        hook.mkdir()
        (hook / "sitecustomize.py").write_text(SIMULATE.format(flag=str(flag)))
        env["PYTHONPATH"] = str(hook)
    write_settings(mount, f'[agent]\ncommand = "{quick_agent}"\n[runner]\npoll_interval = 1\n')
    (mount / "inbox").mkdir()
    yield Disk(mount, flag), env
    if mounted:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_repeated_full_disks_lose_and_truncate_nothing(disk, tmp_path: Path):
    state, env = disk
    root = state.root
    daemon = DaemonProcess(root, env=env, output=tmp_path / "daemon.txt").start()
    ids: set[str] = set()
    try:
        for cycle in range(size(3, 18)):
            staged = []
            for n in range(3):  # written while there is room, renamed in when there is none
                task_id = f"full-{cycle}-{n}"
                temp = root / "inbox" / f".{task_id}.tmp"
                temp.write_text(f'{{"id": "{task_id}", "prompt": "p"}}')
                staged.append((temp, task_id))
            state.fill()
            for temp, task_id in staged:
                os.rename(temp, root / "inbox" / f"{task_id}.json")
                ids.add(task_id)
            wait_for(lambda: "No space left" in daemon.output(), message="the error seen")
            assert daemon.process.poll() is None
            state.free()
            wait_for(lambda: all(record_of(root, i) for i in ids), timeout=30,
                     message="work resumed")
            with contextlib.suppress(FileNotFoundError):
                (tmp_path / "daemon.txt").write_text("")  # the next cycle's error is new
        wait_for(lambda: not running_task(root).get("id"), message="running.json cleared")
    finally:
        daemon.stop()
    assert ids
    assert_each_archived_once(root, ids)
    assert_no_corrupt_json(root)
