"""Bounds on what a task may carry, above all on every value that reaches the agent's argv.

A value that reaches argv can never start with `-` (it would become a flag), never holds
a NUL (Popen refuses it) and is never longer than a bound (E2BIG, megabyte log headers).
Pure: patterns, sizes and small checks; task.py applies them per field.
"""

from __future__ import annotations

import re
from typing import Any

# Claude Code tool rules: `Read`, `Bash(git log:*)`, `mcp__server__tool`, `WebFetch(domain:x.y)`
TOOL_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]{0,199}(\([^\x00-\x1f\x7f]{0,800}\))?$")
# session ids are UUIDs; anything of letters, digits, `-` and `_` not starting with `-`
SESSION_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$")
# `sonnet`, `claude-sonnet-4-5`, `opus[1m]`, `claude-3-5@20241022`, Bedrock ids and ARNs
MODEL_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@\[\]-]{0,255}$")

MAX_TOOLS = 200                 # entries in allowedTools / disallowedTools
MAX_TEXT = 65_536               # characters of appendSystemPrompt
MAX_LABEL = 1_000               # characters of name, role, scheduledId, lastError
MAX_NESTING = 32                # levels of JSON nesting in one task
MAX_LIST_ENTRIES = 1_000        # tasks in one {"list": [...]} inbox file
MAX_RETRIES = 100               # maxRetries
MAX_ATTEMPTS = 10_000           # attempts
MAX_TURNS = 100_000             # maxTurns


def tool_name(value: object) -> bool:
    return isinstance(value, str) and bool(TOOL_PATTERN.match(value))


def tool_list(value: object) -> bool:
    return isinstance(value, list) and len(value) <= MAX_TOOLS and all(map(tool_name, value))


def session_id(value: object) -> bool:
    return isinstance(value, str) and bool(SESSION_ID_PATTERN.match(value))


def model_name(value: object) -> bool:
    return isinstance(value, str) and bool(MODEL_PATTERN.match(value))


def text(value: object, limit: int = MAX_TEXT) -> bool:
    """A string without NUL of at most `limit` characters."""
    return isinstance(value, str) and len(value) <= limit and "\x00" not in value


def int_between(value: object, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def nesting(value: Any, stop_at: int = MAX_NESTING + 1) -> int:
    """How deeply lists and objects nest in `value` (a scalar is 0), counted without
    recursion (orjson parses 1024 levels; Python's recursion stops near 1000) and
    stopping once `stop_at` is reached."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(
            item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if deepest >= stop_at:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


def flatten_deep(value: Any, keep: int = MAX_NESTING) -> Any:
    """`value` with everything nested deeper than `keep` levels replaced by a short note,
    so a record of a bad entry can always be written (orjson dumps only 254 levels)."""
    if keep <= 0:
        return "(nested too deeply; dropped)"
    if isinstance(value, dict):
        return {str(k): flatten_deep(v, keep - 1) for k, v in value.items()}
    if isinstance(value, list):
        return [flatten_deep(v, keep - 1) for v in value]
    return value


def text_label(value: object) -> bool:
    return text(value, MAX_LABEL)
