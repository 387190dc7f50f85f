"""How to call the agent and how to read what it printed.

For Claude Code (the default preset): `claude -p --output-format json` with the
prompt on stdin and one flag per task option; its final JSON object is the
result. Other presets (qoder, codex, gemini, custom) are judged by exit code.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from pipeline.agent.reach import with_runner
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task

# task field -> Claude Code flag taking one value
_VALUE_FLAGS = {
    "model": "--model",
    "max_turns": "--max-turns",
    "max_budget_usd": "--max-budget-usd",
    "append_system_prompt": "--append-system-prompt",
    "permission_mode": "--permission-mode",
    "resume": "--resume",
}
# task field -> Claude Code flag taking several values
_LIST_FLAGS = {"allowed_tools": "--allowedTools", "disallowed_tools": "--disallowedTools"}


EXECUTABLES = {"claude": "claude", "qoder": "qodercli", "codex": "codex", "gemini": "gemini"}
# presets whose CLI runs under a session id it is given and can resume it (`--resume ID`)
RESUMABLE = {"claude"}
# always passed through, even with a clean environment (env_passthrough set)
BASIC_ENV = ("PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TERM", "TMPDIR", "SHELL",
             "SYSTEMROOT", "USERPROFILE", "APPDATA")


def executable(settings: Settings) -> str:
    return settings.agent_command or EXECUTABLES.get(settings.agent_preset, "")


def speaks_claude_json(settings: Settings) -> bool:
    """Only Claude Code prints the JSON result that success is judged by."""
    return settings.agent_preset == "claude"


def resumable(settings: Settings) -> bool:
    return settings.agent_preset in RESUMABLE


def build_argv(task: Task, settings: Settings, workspace: str,
               prompt_file: str) -> list[str]:
    """The agent's argv (never a shell string); the prompt also goes to its stdin."""
    builders = {"claude": _claude, "qoder": _qoder, "codex": _codex, "gemini": _gemini,
                "custom": _custom}
    argv = builders[settings.agent_preset](task, settings, workspace, prompt_file)
    return argv + list(settings.agent_extra_args)


def _claude(task: Task, settings: Settings, _workspace: str, _file: str) -> list[str]:
    output = ["stream-json", "--verbose"] if settings.agent_stream else ["json"]
    argv = [executable(settings), "-p", "--output-format", *output]
    if task.auto_approve is True:
        argv.append("--dangerously-skip-permissions")
    # `--flag=value`: a value can never be read as a flag of its own (validation also
    # refuses a leading dash); Claude Code gathers a repeated list flag's values
    for field, flag in _LIST_FLAGS.items():
        argv += [f"{flag}={value}" for value in getattr(task, field) or ()]
    for field, flag in _VALUE_FLAGS.items():
        value = getattr(task, field)
        if value is not None:
            argv.append(f"{flag}={value}")
    return argv


def _qoder(task: Task, settings: Settings, workspace: str, _file: str) -> list[str]:
    argv = [executable(settings), "-q", "-p", task.prompt, "-w", workspace]
    if task.auto_approve is True:
        argv.append("--yolo")
    if task.allowed_tools:
        argv += ["--allowed-tools", ",".join(task.allowed_tools)]
    return argv + (["--model", task.model] if task.model else [])


def _codex(task: Task, settings: Settings, workspace: str, _file: str) -> list[str]:
    argv = [executable(settings), "exec", "--skip-git-repo-check", "-C", workspace]
    if task.auto_approve is True:
        argv.append("--dangerously-bypass-approvals-and-sandbox")
    return argv + (["-m", task.model] if task.model else []) + ["-"]


def _gemini(task: Task, settings: Settings, _workspace: str, _file: str) -> list[str]:
    argv = [executable(settings), "-p", task.prompt]
    if task.auto_approve is True:
        argv.append("--yolo")
    return argv + (["-m", task.model] if task.model else [])


def _custom(task: Task, settings: Settings, workspace: str, prompt_file: str
            ) -> list[str]:
    values = {"prompt_file": prompt_file, "workspace": workspace, "id": task.id}
    argv = [part.format_map(values) for part in settings.agent_argv]
    for template, part in zip(settings.agent_argv, argv, strict=True):
        if part.startswith("-") and not template.startswith("-"):
            raise ValueError(f"agent.argv: {template!r} would become the flag {part!r}")
    return argv


def build_env(settings: Settings, base: dict[str, str] | None = None,
              root: Path | None = None) -> dict[str, str]:
    """The agent's environment: ours (or, with env_passthrough, only the basics and the
    names listed) without CLAUDECODE - so a runner started from inside Claude Code does
    not make the child refuse to start - plus [agent] env; with `root`, also the way
    back to this runner (CLAUDE_RUNNER_ROOT, our claude-runner first on PATH)."""
    source = dict(os.environ if base is None else base)
    if settings.agent_env_passthrough is not None:
        keep = set(BASIC_ENV) | set(settings.agent_env_passthrough)
        source = {k: v for k, v in source.items() if k in keep}
    source.pop("CLAUDECODE", None)
    for name in ("NODE_CHANNEL_FD", "NODE_CHANNEL_SERIALIZATION_MODE"):
        source.pop(name, None)  # PM2's IPC channel is the runner's, not a Node agent's
    source.update(dict(settings.agent_env))
    if settings.agent_sandboxed:
        source["IS_SANDBOX"] = "1"
    return with_runner(source, root) if root is not None else source


def parse_result(output: str) -> dict[str, Any] | None:
    """Claude's final `{"type": "result", ...}` object, searched from the last line up."""
    for line in reversed(output.splitlines()):
        candidate = line.strip()
        if not candidate.startswith("{"):
            continue
        try:
            value = orjson.loads(candidate)
        except orjson.JSONDecodeError:
            continue
        if isinstance(value, dict) and value.get("type") == "result":
            return value
    return None


def result_fields(result: dict[str, Any] | None, limit: int = 4000) -> dict[str, Any]:
    """Record fields taken from Claude's JSON result."""
    if not result:
        return {}
    fields: dict[str, Any] = {}
    text = result.get("result")
    if isinstance(text, str):
        fields["result"] = text if len(text) <= limit else text[:limit] + "…"
    for source, target in (("total_cost_usd", "costUsd"), ("session_id", "sessionId"),
                           ("num_turns", "numTurns"), ("subtype", "subtype")):
        if result.get(source) is not None:
            fields[target] = result[source]
    denials = result.get("permission_denials") or []
    if denials:
        fields["permissionDenials"] = len(denials)
        fields["deniedTools"] = sorted({d.get("tool_name", "?") for d in denials
                                        if isinstance(d, dict)})
    return fields


PROMPT_PREVIEW = 80  # characters of a prompt shown in a log line (prompts are never logged whole)


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def last_lines(output: str, count: int = 5) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return "\n".join(lines[-count:])
