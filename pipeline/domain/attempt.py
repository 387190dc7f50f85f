"""One attempt of a task: the running entry (running.json) while it runs, and how it
ended as the slot saw it (values, no processes)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pipeline.domain import fields as f
from pipeline.domain.fields import key
from pipeline.domain.task import WithTask


class StopReason(StrEnum):
    """Why the runner itself ended an attempt."""
    CANCEL = "cancel"
    SHUTDOWN = "shutdown"
    FENCED = "fenced"  # postgres: the lease is gone, another node may run the task


@dataclass(frozen=True, slots=True, kw_only=True)
class Attempt(WithTask):
    """running.json: the task plus this attempt's facts (`startedAt`, `attempt`, `pid`);
    `from_dict` raises NotATask when it holds no task (`{}`: idle)."""
    number: int = key("attempt", f.is_int, 1)
    started_at: str | None = key("startedAt", f.is_str)
    attempt_id: str | None = key("attemptId", f.is_str)
    pid: int | None = key("pid", f.is_int)
    pid_start_ticks: int | None = key("pidStartTicks", f.is_int)
    session_id: str | None = key("sessionId", f.is_str)
    last_activity_at: str | None = key("lastActivityAt", f.is_str)  # the agent's progress
    num_turns: int | None = key("numTurns", f.is_int)


@dataclass(frozen=True, slots=True)
class Progress:
    """What the agent's output stream showed so far: its last activity, turns taken."""
    at: str
    turns: int


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
    stop_reason: StopReason | None  # set when ended by the runner
    output: str              # what this attempt wrote to its log (the tail)
    spawn_error: str | None = None
    idle: bool = False       # ended by idle_timeout (timed_out is then true too)
    git: dict[str, Any] | None = None    # the workspace's git facts (gitfacts.git_record)
    changed: bool | None = None          # a commit or working-tree change; None: not a repo
    verify: VerifyOutcome | None = None
