"""Checking a task as it arrives (an inbox file, a queue.json entry, a schedule's copy):
every problem of the fields the contract names, each reported with its field.

Raw JSON on purpose: this is the boundary where any value may turn up; what passes
becomes a typed `Task` (task.py)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipeline.domain import limits
from pipeline.domain.clock import parse_iso
from pipeline.domain.fields import is_number, is_str_list
from pipeline.domain.paths import foreign_path_problem
from pipeline.domain.settings import Settings
from pipeline.domain.task import PERMISSION_MODES, valid_id


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


def _is_iso(value: object) -> bool:
    if not isinstance(value, str):
        return False
    try:
        parse_iso(value)
    except ValueError:
        return False
    return True


_TOOLS_REASON = (f"must be a list (at most {limits.MAX_TOOLS}) of tool names like Read, "
                 "Bash(git log:*) or mcp__server__tool - never starting with -")

# field -> (check, reason when the check fails); None values are treated as absent
_CHECKS: dict[str, tuple[Any, str]] = {
    "id": (valid_id, "must be 1..128 characters of A-Z a-z 0-9 . _ - not starting with -"),
    "name": (limits.text_label, f"must be a string of at most {limits.MAX_LABEL} characters"),
    "role": (limits.text_label, f"must be a string of at most {limits.MAX_LABEL} characters"),
    "autoApprove": (lambda v: isinstance(v, bool), "must be true or false"),
    "priority": (lambda v: v in ("high", "normal"), 'must be "high" or "normal"'),
    "maxRetries": (lambda v: limits.int_between(v, 0, limits.MAX_RETRIES),
                   f"must be an integer from 0 to {limits.MAX_RETRIES}"),
    "model": (limits.model_name, "must be a model name: up to 256 of A-Z a-z 0-9 . _ : / @ [ ] -,"
              " starting with a letter or digit"),
    "maxTurns": (lambda v: limits.int_between(v, 1, limits.MAX_TURNS),
                 f"must be an integer from 1 to {limits.MAX_TURNS}"),
    "maxBudgetUsd": (lambda v: isinstance(v, int | float) and not isinstance(v, bool)
                     and 0 < v <= 1e6, "must be a number > 0 (at most 1000000)"),
    "appendSystemPrompt": (limits.text, f"must be a string of at most {limits.MAX_TEXT} "
                           "characters without NUL"),
    "permissionMode": (lambda v: v in PERMISSION_MODES,
                       f"must be one of {', '.join(sorted(PERMISSION_MODES))}"),
    "resume": (limits.session_id, "must be a session id: up to 128 of A-Z a-z 0-9 - _, "
               "starting with a letter or digit"),
    "scheduled": (lambda v: isinstance(v, bool), "must be true or false"),
    "scheduledId": (limits.text_label, f"must be a string of at most {limits.MAX_LABEL} "
                    "characters"),
    "createdAt": (_is_iso, "must be an ISO 8601 time"),
    "notBefore": (_is_iso, "must be an ISO 8601 time"),
    "attempts": (lambda v: limits.int_between(v, 0, limits.MAX_ATTEMPTS),
                 f"must be an integer from 0 to {limits.MAX_ATTEMPTS}"),
    "lastError": (lambda v: isinstance(v, str), "must be a string"),  # the runner's; not argv
    "maxTaskCostUsd": (lambda v: is_number(v) and v > 0, "must be a number > 0"),
    "totalCostUsd": (lambda v: is_number(v) and v >= 0, "must be a number >= 0"),
    "expectChanges": (lambda v: isinstance(v, bool), "must be true or false"),
    "verify": (lambda v: is_str_list(v) and 0 < len(v) <= 100 and bool(v[0])
               and all(limits.text(part) for part in v),
               "must be a non-empty list of strings (an argv, never a shell line)"),
}


def _check_prompt(task: dict[str, Any], settings: Settings) -> str | None:
    prompt = task.get("prompt")
    if prompt is None:
        return "is required"
    if not isinstance(prompt, str) or not prompt.strip():
        return "must be a non-empty string"
    if "\x00" in prompt:
        return "must not contain a NUL character"
    limit = settings.max_prompt_bytes  # a character is at most 4 bytes: encode only if needed
    if len(prompt) * 4 > limit and len(prompt.encode("utf-8", "surrogatepass")) > limit:
        return f"is larger than limits.prompt_bytes ({settings.max_prompt_bytes} bytes)"
    if prompt.startswith("-") and settings.agent_preset in ("qoder", "gemini"):
        return f"must not start with - (the {settings.agent_preset} preset passes it in argv)"
    return None


def _check_tools(value: object) -> str | None:
    if value is None or limits.tool_list(value):
        return None
    if not isinstance(value, list) or len(value) > limits.MAX_TOOLS:
        return _TOOLS_REASON
    bad = next(item for item in value if not limits.tool_name(item))
    shown = repr(bad) if len(repr(bad)) <= 60 else repr(bad)[:59] + "…"
    return f"{shown} is not a tool name: {_TOOLS_REASON}"


def _check_timeout(value: object, settings: Settings) -> str | None:
    if not limits.int_between(value, 1, settings.max_timeout):
        return (f"must be an integer number of milliseconds from 1 to {settings.max_timeout} "
                "(limits.timeout_ms)")
    return None


def _inside(path: str, roots: tuple[str, ...]) -> bool:
    real = os.path.realpath(path)
    return any(
        os.path.commonpath([real, os.path.realpath(root)]) == os.path.realpath(root)
        for root in roots
    )


def _check_workspace(value: object, settings: Settings) -> str | None:
    foreign = foreign_path_problem(value) if isinstance(value, str) else None
    if foreign:
        return foreign
    if not limits.text(value, 4096) or not os.path.isabs(str(value)):
        return "must be an absolute path"
    if not Path(value).is_dir():
        return f"folder does not exist: {value}"
    if settings.workspace_roots and not _inside(value, settings.workspace_roots):
        return "is outside the allowed workspace_roots"
    return None


def validate(task: object, settings: Settings, index: int | None = None) -> list[FieldError]:
    """Every problem of one task, each naming its field."""
    if not isinstance(task, dict):
        return [FieldError(index, "(task)", "must be a JSON object")]
    if limits.nesting(task) > limits.MAX_NESTING:
        return [FieldError(index, "(task)", f"nested more than {limits.MAX_NESTING} levels deep")]
    errors: list[FieldError] = []
    prompt_problem = _check_prompt(task, settings)
    if prompt_problem:
        errors.append(FieldError(index, "prompt", prompt_problem))
    for name, (check, reason) in _CHECKS.items():
        value = task.get(name)
        if value is not None and not check(value):
            errors.append(FieldError(index, name, reason))
    for name in ("allowedTools", "disallowedTools"):
        problem = _check_tools(task.get(name))
        if problem:
            errors.append(FieldError(index, name, problem))
    if task.get("timeout") is not None:
        problem = _check_timeout(task["timeout"], settings)
        if problem:
            errors.append(FieldError(index, "timeout", problem))
    if task.get("workspace") is not None:
        problem = _check_workspace(task["workspace"], settings)
        if problem:
            errors.append(FieldError(index, "workspace", problem))
    elif settings.workspace_roots:
        errors.append(FieldError(index, "workspace", "is required when workspace_roots is set "
                                 "(the runner's own root is never a workspace then)"))
    if task.get("autoApprove") is True and not settings.allow_auto_approve:
        errors.append(FieldError(index, "autoApprove", "is not allowed by allow_auto_approve"))
    return errors
