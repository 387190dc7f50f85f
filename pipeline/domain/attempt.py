"""How one attempt of a task ended, as the slot saw it (a value, no processes)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AttemptEnd:
    exit_code: int | None
    timed_out: bool
    stop_reason: str | None  # "cancel" / "shutdown" when ended by us
    output: str              # what this attempt wrote to its log (the tail)
    spawn_error: str | None = None
    idle: bool = False       # ended by idle_timeout (timed_out is then true too)
