"""The task's `verify` command: an argv (never a shell) run in the workspace after a
successful attempt, in its own process group, ended after `verify_timeout` seconds."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

from pipeline.domain.attempt import VerifyOutcome
from pipeline.execution import procgroup

TAIL_CHARS = 2000


def run_verify(argv: list[str], cwd: Path, env: dict[str, str], timeout: float,
               log_path: Path, started: Callable[[int], None] = lambda _pid: None
               ) -> VerifyOutcome:
    """Run it; its output is appended to the task log and its tail returned. `started`
    gets its pid (its process group), so a shutdown can end it."""
    with open(log_path, "ab") as log:
        log.write(f"\n----- verify: {' '.join(argv)}\n".encode())
    try:
        process = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,  # noqa: S603
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                   **procgroup.spawn_options())
    except OSError as error:
        return VerifyOutcome(None, f"cannot start the verify command: {error}")
    started(process.pid)
    timed_out = False
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        timed_out = True
        procgroup.kill(process.pid)
        output, _ = process.communicate()
    procgroup.kill(process.pid)  # whatever it left in its group
    text = output.decode("utf-8", errors="replace")
    with open(log_path, "ab") as log:
        log.write(output + f"\n----- verify exit code {process.returncode}\n".encode())
    return VerifyOutcome(None if timed_out else process.returncode, text[-TAIL_CHARS:],
                         timed_out)
