"""The task: what the agent is asked and how, plus the runner's notes between attempts.

A frozen value read from a queue entry, an inbox file or a record (`Task.from_dict`) and
written back with `to_dict`; fields the contract names are typed, everything else rides
in `extra` untouched. Checking a raw entry is validation.py's job; a `Task` has passed it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, TypeVar

from pipeline.domain import fields as f
from pipeline.domain import limits
from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.domain.fields import key
from pipeline.domain.settings import Settings

ID_PATTERN = re.compile(r"^[A-Za-z0-9._][A-Za-z0-9._-]{0,127}$")  # never a leading dash
PERMISSION_MODES = {"acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"}


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value)) and value not in {".", ".."}


def new_id(now: datetime) -> str:
    import secrets  # imported when needed: CLI start-up

    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def _is_baseline(value: object) -> bool:
    return isinstance(value, list) and len(value) == 2 and isinstance(value[1], str) \
        and (value[0] is None or isinstance(value[0], str))


def is_task_object(raw: object) -> bool:
    """What `Task.from_dict` (and so a record's or a running entry's) accepts: an object
    with a valid id - checked without building the value."""
    return isinstance(raw, dict) and valid_id(raw.get("id"))


class NotATask(ValueError):
    """A JSON value without a usable `id`: it cannot be a Task."""


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
class Task:
    id: str = key("id", valid_id, "")
    prompt: str = key("prompt", f.is_text, "", absent="")  # "": none (it is in extra if odd)
    # labels and how the agent runs (the contract's task fields)
    name: str | None = key("name", f.is_str)
    role: str | None = key("role", f.is_str)
    workspace: str | None = key("workspace", f.is_str)
    timeout: int | None = key("timeout", f.is_int)
    auto_approve: bool | None = key("autoApprove", f.is_bool)
    allowed_tools: tuple[str, ...] | None = key("allowedTools", f.is_str_list, seq=True)
    disallowed_tools: tuple[str, ...] | None = key("disallowedTools", f.is_str_list, seq=True)
    priority: str | None = key("priority", f.is_str)
    max_retries: int | None = key("maxRetries", f.is_int)
    model: str | None = key("model", f.is_str)
    max_turns: int | None = key("maxTurns", f.is_int)
    max_budget_usd: float | None = key("maxBudgetUsd", f.is_number)
    append_system_prompt: str | None = key("appendSystemPrompt", f.is_str)
    permission_mode: str | None = key("permissionMode", f.is_str)
    resume: str | None = key("resume", f.is_str)
    scheduled: bool | None = key("scheduled", f.is_bool)
    scheduled_id: str | None = key("scheduledId", f.is_str)
    created_at: str | None = key("createdAt", f.is_str)
    max_task_cost_usd: float | None = key("maxTaskCostUsd", f.is_number)
    expect_changes: bool | None = key("expectChanges", f.is_bool)
    verify: tuple[str, ...] | None = key("verify", f.is_str_list, seq=True)
    # the runner's notes between attempts
    attempts: int | None = key("attempts", f.is_count)
    not_before: str | None = key("notBefore", f.is_str)
    last_error: str | None = key("lastError", f.is_str)
    total_cost_usd: float | None = key("totalCostUsd", f.is_number)
    session_ids: tuple[str, ...] | None = key("sessionIds", f.is_str_list, seq=True)
    resumes: int | None = key("resumes", f.is_count)
    resume_session: str | None = key("resumeSession", f.is_str)
    resume_reason: str | None = key("resumeReason", f.is_str)
    resume_feedback: str | None = key("resumeFeedback", f.is_str)
    resume_fallbacks: int | None = key("resumeFallbacks", f.is_count)
    fallback_model: str | None = key("fallbackModel", f.is_str)
    # (head, tree) before the first attempt; head is null in a repository without commits
    git_baseline: tuple[str | None, str] | None = key("gitBaseline", _is_baseline, seq=True)
    kind: str | None = key("kind", f.is_str)  # e.g. "optimisation", "evaluation" (reports)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, raw: object) -> Task:
        """Raises NotATask when `raw` is not an object with a valid id (a prompt that is
        missing or not a string reads as "": validation keeps such a task out of the queue,
        but its record may still be read)."""
        if not is_task_object(raw):
            raise NotATask(f"not a task: {str(raw)[:80]}")
        return f.build(cls, raw)

    def to_dict(self) -> dict[str, Any]:
        return f.dump_with(self, self.extra)

    # ----- what the fields mean ---------------------------------------------------------
    @property
    def high(self) -> bool:
        return self.priority == "high"

    @property
    def attempts_made(self) -> int:
        return self.attempts or 0

    def ready_at(self) -> datetime | None:
        """`notBefore` as a time (None: ready now, or not a readable time)."""
        return parse_iso_or_none(self.not_before)

    def max_retries_or(self, settings: Settings) -> int:
        value = self.max_retries
        return min(value, limits.MAX_RETRIES) if value is not None and value >= 0 \
            else settings.max_retries

    def timeout_ms(self, settings: Settings) -> int:
        value = self.timeout
        return min(value, settings.max_timeout) if value is not None and value > 0 \
            else settings.default_timeout

    def max_cost(self, settings: Settings) -> float | None:
        """The spend cap in USD (`maxTaskCostUsd`, else [budget] max_task_cost_usd)."""
        value = self.max_task_cost_usd
        if value is not None and value > 0:
            return float(value)
        return settings.max_task_cost_usd or None

    def spent(self) -> float:
        return float(self.total_cost_usd or 0)


def tasks_in(items: list[Any]) -> list[Task]:
    """The entries that read as tasks (anything else is left to the admit stage's sweep)."""
    return list(f.parsed(Task.from_dict, items))


def flattened(task: Task) -> Task:
    """The task with values nested too deep for a record flattened (limits.flatten_deep)."""
    return Task.from_dict(limits.flatten_deep(task.to_dict()))


def salvaged_task(entry: Any, now: datetime) -> Task:  # noqa: ANN401 - any JSON value
    """Whatever a queue entry holds, as a task its record can be written for: a value that
    is not an object is kept as `value`, an unusable id replaced by a generated one."""
    raw = dict(entry) if isinstance(entry, dict) else {"value": entry}
    if not valid_id(raw.get("id")):
        raw["id"] = new_id(now)
    return Task.from_dict(raw)


def admit_fields(raw: Mapping[str, Any], now: datetime) -> Task:
    """A validated raw task as admitted: `id` and `createdAt` assigned when missing."""
    admitted = dict(raw)
    if not admitted.get("id"):
        admitted["id"] = new_id(now)
    admitted.setdefault("createdAt", iso(now))
    return Task.from_dict(admitted)


# keys that describe one run (the running entry's, a record's), never the task's own, and the
# task's notes that steer only its next attempt: a value of one left in a task's `extra` (a
# null, an odd type) is dropped with them
RUN_KEYS = frozenset({
    "status", "outcome", "startedAt", "completedAt", "failedAt", "durationMs", "exitCode",
    "error", "result", "costUsd", "sessionId", "numTurns", "logFile", "permissionDenials",
    "deniedTools", "subtype", "attempt", "pid", "pidStartTicks", "attemptId", "lastActivityAt",
})
NEXT_ATTEMPT_NOTES = frozenset({"notBefore", "lastError", "resumeSession", "resumeReason",
                                "resumeFeedback", "gitBaseline"})


def without_notes(task: Task) -> Task:
    """The task without what steered its last attempt or was left by it: what a record
    shows of it, and where a requeued task starts from."""
    dropped = RUN_KEYS | NEXT_ATTEMPT_NOTES
    return replace(task, not_before=None, last_error=None, resume_session=None,
                   resume_reason=None, resume_feedback=None, git_baseline=None,
                   extra={k: v for k, v in task.extra.items() if k not in dropped})


def fresh(task: Task) -> Task:
    """The task as `retry ID` queues it again: no notes of earlier attempts."""
    return replace(without_notes(task), attempts=0, total_cost_usd=None)


W = TypeVar("W", bound="WithTask")


@dataclass(frozen=True, kw_only=True)  # no slots: see fields.make
class WithTask:
    """A task plus facts of its own, in one JSON object (the running entry, a record): the
    keys the subclass names are its own, every other key is the task's."""
    task: Task

    @classmethod
    def from_dict(cls: type[W], raw: object) -> W:
        """Raises NotATask when `raw` is not an object holding a task."""
        if not isinstance(raw, dict):
            raise NotATask(f"not a {cls.__name__}: {str(raw)[:80]}")
        values, rest = f.split(cls, raw)
        return f.make(cls, task=Task.from_dict(rest), **values)

    def to_dict(self) -> dict[str, Any]:
        return {**self.task.to_dict(), **f.dump(self)}

    @property
    def id(self) -> str:
        return self.task.id
