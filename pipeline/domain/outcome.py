"""How a task ended, and whether that counts as success (the records' `outcome`, `status`)."""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    INVALID = "invalid"
    CANCELLED = "cancelled"
    BUDGET = "budget"


class Status(StrEnum):
    """A record's `status`: only a success is "success"; every other outcome is "failed"."""
    SUCCESS = "success"
    FAILED = "failed"

    @classmethod
    def of(cls, outcome: Outcome) -> Status:
        return cls.SUCCESS if outcome is Outcome.SUCCESS else cls.FAILED
