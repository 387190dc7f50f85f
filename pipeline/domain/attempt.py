"""How one attempt of a task ended, as the slot saw it (a value, no processes)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class VerifyOutcome:
    """The task's `verify` command, run after a successful attempt."""
    exit_code: int | None    # None: it could not be started, or ran out of time
    tail: str                # the last lines of its output
    timed_out: bool = False


@dataclass(frozen=True)
class AttemptEnd:
    exit_code: int | None
    timed_out: bool
    stop_reason: str | None  # "cancel" / "shutdown" when ended by us
    output: str              # what this attempt wrote to its log (the tail)
    spawn_error: str | None = None
    idle: bool = False       # ended by idle_timeout (timed_out is then true too)
    git: dict[str, Any] | None = None    # the workspace's git facts (gitfacts.git_record)
    changed: bool | None = None          # a commit or working-tree change; None: not a repo
    verify: VerifyOutcome | None = None
