"""Tasks as plain dicts at the boundary: validation, defaults and the outcome enum.

Tasks stay dicts so unknown fields travel through untouched; this module only
checks the fields the contract names and reports each problem with its field.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.domain.clock import iso, parse_iso
from pipeline.domain.settings import Settings

ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
PERMISSION_MODES = {"acceptEdits", "auto", "bypassPermissions", "default", "dontAsk", "plan"}


class Outcome(StrEnum):
    SUCCESS = "success"
    ERROR = "error"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    INVALID = "invalid"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class FieldError:
    index: int | None
    field: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "field": self.field, "reason": self.reason}

    def __str__(self) -> str:
        where = f"entry {self.index}: " if self.index is not None else ""
        return f"{where}{self.field}: {self.reason}"


def valid_id(value: object) -> bool:
    return isinstance(value, str) and bool(ID_PATTERN.match(value)) and value not in {".", ".."}


def new_id(now: datetime) -> str:
    import secrets  # imported when needed: CLI start-up

    return f"{now:%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_str_list(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(item, str) for item in value)


def _is_iso(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


# field -> (check, reason when the check fails); None values are treated as absent
_CHECKS: dict[str, tuple[Any, str]] = {
    "id": (valid_id, "must be 1..128 characters of A-Z a-z 0-9 . _ -"),
    "name": (lambda v: isinstance(v, str), "must be a string"),
    "role": (lambda v: isinstance(v, str), "must be a string"),
    "timeout": (lambda v: _is_int(v) and v > 0, "must be an integer number of milliseconds > 0"),
    "autoApprove": (lambda v: isinstance(v, bool), "must be true or false"),
    "allowedTools": (_is_str_list, "must be a list of strings or null"),
    "disallowedTools": (_is_str_list, "must be a list of strings or null"),
    "priority": (lambda v: v in ("high", "normal"), 'must be "high" or "normal"'),
    "maxRetries": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "model": (lambda v: isinstance(v, str) and v != "", "must be a non-empty string"),
    "maxTurns": (lambda v: _is_int(v) and v > 0, "must be an integer > 0"),
    "maxBudgetUsd": (lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v > 0,
                     "must be a number > 0"),
    "appendSystemPrompt": (lambda v: isinstance(v, str), "must be a string"),
    "permissionMode": (lambda v: v in PERMISSION_MODES,
                       f"must be one of {', '.join(sorted(PERMISSION_MODES))}"),
    "resume": (lambda v: isinstance(v, str) and bool(re.match(r"^[A-Za-z0-9-]{1,128}$", v)),
               "must be a session id"),
    "scheduled": (lambda v: isinstance(v, bool), "must be true or false"),
    "scheduledId": (lambda v: isinstance(v, str), "must be a string"),
    "createdAt": (_is_iso, "must be an ISO 8601 time"),
    "notBefore": (_is_iso, "must be an ISO 8601 time"),
    "attempts": (lambda v: _is_int(v) and v >= 0, "must be an integer >= 0"),
    "lastError": (lambda v: isinstance(v, str), "must be a string"),
}


def _check_prompt(task: dict[str, Any]) -> str | None:
    prompt = task.get("prompt")
    if prompt is None:
        return "is required"
    if not isinstance(prompt, str) or not prompt.strip():
        return "must be a non-empty string"
    return None


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(
        os.path.commonpath([real, os.path.realpath(root)]) == os.path.realpath(root)
        for root in roots
    )


def _check_workspace(value: object, settings: Settings) -> str | None:
    if not isinstance(value, str) or not os.path.isabs(value):
        return "must be an absolute path"
    if not Path(value).is_dir():
        return "folder does not exist"
    if settings.workspace_roots and not _inside(value, settings.workspace_roots):
        return "is outside the allowed workspace_roots"
    return None


def validate(task: object, settings: Settings, index: int | None = None) -> list[FieldError]:
    """Every problem of one task, each naming its field."""
    if not isinstance(task, dict):
        return [FieldError(index, "(task)", "must be a JSON object")]
    errors: list[FieldError] = []
    prompt_problem = _check_prompt(task)
    if prompt_problem:
        errors.append(FieldError(index, "prompt", prompt_problem))
    for name, (check, reason) in _CHECKS.items():
        value = task.get(name)
        if value is not None and not check(value):
            errors.append(FieldError(index, name, reason))
    if task.get("workspace") is not None:
        problem = _check_workspace(task["workspace"], settings)
        if problem:
            errors.append(FieldError(index, "workspace", problem))
    if task.get("autoApprove") is True and not settings.allow_auto_approve:
        errors.append(FieldError(index, "autoApprove", "is not allowed by allow_auto_approve"))
    return errors


def admit_fields(task: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The task with `id` and `createdAt` assigned when missing (a new dict)."""
    admitted = dict(task)
    if not admitted.get("id"):
        admitted["id"] = new_id(now)
    admitted.setdefault("createdAt", iso(now))
    return admitted


def is_high(task: dict[str, Any]) -> bool:
    return task.get("priority") == "high"


def max_retries(task: dict[str, Any], settings: Settings) -> int:
    value = task.get("maxRetries")
    return value if _is_int(value) and value >= 0 else settings.max_retries


def timeout_ms(task: dict[str, Any], settings: Settings) -> int:
    value = task.get("timeout")
    return value if _is_int(value) and value > 0 else settings.default_timeout
