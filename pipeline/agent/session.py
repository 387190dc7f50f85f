"""Agent sessions: the id every attempt runs under, and how a resumed attempt is called.

Pure. A fresh attempt of a preset that can resume (`presets.resumable`) runs under a
session id the runner generated (`claude -p --session-id <uuid>`), written to
running.json before the agent starts, so even a crash recovery knows which session to
continue. A resumed attempt runs `claude -p --resume <id>` with the continuation prompt,
which carries the task's own prompt (a session that cannot be resumed then still does
the task from scratch).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import replace
from typing import Any

import orjson

from pipeline.domain.attempt import Attempt
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task

NOT_FOUND = re.compile(r"No conversation found with session ID", re.IGNORECASE)
PERMISSION_PROMPTS_FLAG = "--permission-prompts"
# words of a tool_result that Claude Code writes when it refused a tool (2.1.197: "Claude
# requested permissions to write to X, but you haven't granted it yet."; "Output redirection
# to 'X' was blocked. For security, Claude Code may only write to files in the allowed
# working directories", which `permission_denials` does not list) - not a command's own
# "Permission denied" on a file, which is an ordinary tool error
_DENIED = re.compile(r"requested permissions? to|haven't granted|was blocked\. For security"
                     r"|permission to use \S+ (?:has been|was) denied"
                     r"|denied by (?:a |your )?(?:permission|deny)", re.IGNORECASE)


def choose_id(task: Task, resumable: bool) -> str | None:
    """The session this attempt runs under: the one being resumed, the task's own
    `resume`, or a new one (None when the preset has no sessions)."""
    if not resumable:
        return None
    return task.resume_session or own_resume(task) or str(uuid.uuid4())


def own_resume(task: Task) -> str | None:
    """The task's own `resume` field, unless a resume already failed (then the task runs
    fresh: resuming the same missing session again would loop)."""
    return None if task.resume_fallbacks else task.resume


def agent_view(task: Task, prompt: str) -> Task:
    """The task as the argv builder should see it: this attempt's prompt; a runner resume
    replaces the task's own `resume`, a fallback model its `model`."""
    return replace(task, prompt=prompt, resume=task.resume_session or own_resume(task),
                   model=task.fallback_model or task.model)


def session_flags(attempt: Attempt, features: frozenset[str]) -> list[str]:
    """Flags added to Claude Code's argv: the runner's session id for a fresh attempt,
    and `--permission-prompts none` when the installed CLI has it."""
    flags: list[str] = []
    task = attempt.task
    if attempt.session_id and not own_resume(task) and not task.resume_session:
        flags.append(f"--session-id={attempt.session_id}")  # one word: never read as a flag
    if "permission-prompts" in features:
        flags.append(f"{PERMISSION_PROMPTS_FLAG}=none")
    return flags


def prompt_for(task: Task, settings: Settings) -> str:
    """The prompt of this attempt: the continuation prompt when resuming, the task's
    prompt (plus the runner's feedback, if any) otherwise."""
    feedback = task.resume_feedback
    if task.resume_session:
        extra = f"\n\n{feedback}" if feedback else ""
        return settings.continuation_prompt.format(
            reason=task.resume_reason or "interrupted", prompt=task.prompt, feedback=extra)
    if feedback:
        return f"{task.prompt}\n\n(The runner's note on your previous attempt: {feedback})"
    return task.prompt


def resume_failed(output: str) -> bool:
    """Claude Code's answer to `--resume` of a session it does not have (other HOME or
    cwd, deleted transcript)."""
    return bool(NOT_FOUND.search(output))


def supports_permission_prompts(help_text: str) -> bool:
    """Whether `claude --help` lists `--permission-prompts` (CLI 2.1.259 and later)."""
    return PERMISSION_PROMPTS_FLAG in help_text


def stream_denials(output: str) -> dict[str, int]:
    """Tool uses refused, read from stream-json `user` events: a `tool_result` with
    `is_error` whose text says permission was denied, by tool name (from the matching
    `tool_use` of an earlier `assistant` event). Catches what `permission_denials` misses."""
    tools: dict[str, str] = {}
    denied: dict[str, int] = {}
    for line in output.splitlines():
        if '"tool_' not in line:
            continue
        event = _event(line)
        for block in _blocks(event):
            if block.get("type") == "tool_use":
                tools[str(block.get("id"))] = str(block.get("name") or "?")
            elif block.get("type") == "tool_result" and _is_denial(block):
                name = tools.get(str(block.get("tool_use_id")), "?")
                denied[name] = denied.get(name, 0) + 1
    return denied


def _event(line: str) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


def _blocks(event: dict[str, Any]) -> list[dict[str, Any]]:
    if event.get("type") not in ("assistant", "user"):
        return []
    message = event.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    return [b for b in content if isinstance(b, dict)] if isinstance(content, list) else []


def _is_denial(block: dict[str, Any]) -> bool:
    if block.get("is_error") is not True:
        return False
    content = block.get("content")
    if isinstance(content, list):
        content = " ".join(str(c.get("text", "")) for c in content if isinstance(c, dict))
    return bool(_DENIED.search(str(content or "")))


def with_stream_denials(fields: dict[str, Any], output: str) -> dict[str, Any]:
    """The result's denial fields, completed by the denials read from the stream (the
    larger count: the two usually name the same denials)."""
    denied = stream_denials(output)
    if not denied:
        return fields
    seen = sum(denied.values())
    return {**fields, "permissionDenials": max(int(fields.get("permissionDenials") or 0), seen),
            "deniedTools": sorted(set(fields.get("deniedTools") or []) | set(denied)),
            "streamDenials": seen}
