"""One attempt of a task: the running entry (running.json) while it runs, and how it
ended as the slot saw it (values, no processes)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
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


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
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


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
class RunFacts:
    """What one attempt reported about itself - the agent's result (Claude Code's JSON, or
    the last lines of another agent), its exit code, denials, session and the workspace's
    git facts: the run fields its record gets. Keys it does not name ride in `extra`."""
    result: str | None = key("result", f.is_str)
    cost_usd: float | None = key("costUsd", f.is_number)
    session_id: str | None = key("sessionId", f.is_str)
    num_turns: int | None = key("numTurns", f.is_int)
    subtype: str | None = key("subtype", f.is_str)
    exit_code: int | None = key("exitCode", f.is_int)
    permission_denials: int | None = key("permissionDenials", f.is_count)
    denied_tools: tuple[str, ...] | None = key("deniedTools", f.is_str_list, seq=True)
    stream_denials: int | None = key("streamDenials", f.is_count)
    session_ids: tuple[str, ...] | None = key("sessionIds", f.is_str_list, seq=True)
    resume_fallbacks: int | None = key("resumeFallbacks", f.is_count)
    git: Mapping[str, Any] | None = key("git", f.is_mapping)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> RunFacts:
        return f.build(cls, raw)

    def to_dict(self) -> dict[str, Any]:
        return f.dump_with(self, self.extra)
