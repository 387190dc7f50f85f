"""A record: how a task ended (completed.json, failed.json, the history), as a value.

The task's own fields plus the run's: `status`, `outcome`, `attempts`, `startedAt`,
`completedAt` or `failedAt`, `durationMs`, `exitCode`, `error`, `result`, `costUsd`,
`sessionId`, `numTurns`, `logFile`, ... Records come from files anyone may have edited:
`from_dict` takes what fits and keeps the rest untouched (in the task's `extra`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.domain import fields as f
from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.fields import key
from pipeline.domain.outcome import Outcome, Status
from pipeline.domain.task import Task, WithTask, fresh

OUTCOMES = tuple(outcome.value for outcome in Outcome)


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
class Record(WithTask):
    status: str | None = key("status", f.is_str)
    outcome_name: str | None = key("outcome", f.is_str)
    attempts: int | None = key("attempts", f.is_count)
    started_at: str | None = key("startedAt", f.is_str)
    completed_at: str | None = key("completedAt", f.is_str)
    failed_at: str | None = key("failedAt", f.is_str)
    duration_ms: int | None = key("durationMs", f.is_int)
    exit_code: int | None = key("exitCode", f.is_int)
    error: str | None = key("error", f.is_str)
    result: str | None = key("result", f.is_str)
    cost_usd: float | None = key("costUsd", f.is_number)
    session_id: str | None = key("sessionId", f.is_str)
    num_turns: int | None = key("numTurns", f.is_int)
    log_file: str | None = key("logFile", f.is_str)
    subtype: str | None = key("subtype", f.is_str)
    permission_denials: int | None = key("permissionDenials", f.is_int)
    denied_tools: tuple[str, ...] | None = key("deniedTools", f.is_str_list, seq=True)
    account: str | None = key("account", f.is_str)  # the postgres backend's account

    @property
    def outcome(self) -> Outcome | None:
        """The outcome when it is one the runner knows (records may be hand-edited)."""
        return Outcome(self.outcome_name) if self.outcome_name in OUTCOMES else None

    @property
    def succeeded(self) -> bool:
        return self.status == Status.SUCCESS

    @property
    def ended_at(self) -> str | None:
        return self.completed_at or self.failed_at

    def ended(self) -> datetime | None:
        """When it became terminal: `completedAt`, else `failedAt` (each read as a time)."""
        return parse_iso_or_none(self.completed_at) or parse_iso_or_none(self.failed_at)

    def same_run(self, task_id: str, started_at: str | None) -> bool:
        return self.id == task_id and self.started_at == started_at

    def as_task(self) -> Task:
        """The task again, as `retry ID` queues it: attempts reset."""
        return fresh(self.task)


def records_in(items: list[Any]) -> list[Record]:
    """The entries of a records file that are records (anything else is left alone)."""
    return list(f.parsed(Record.from_dict, items))


def iter_records(items: Iterable[Any]) -> Iterator[Record]:
    """`records_in`, one record at a time: a page that stops early converts no more."""
    return f.parsed(Record.from_dict, items)
