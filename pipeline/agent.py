"""How to call the agent and how to read what it printed.

For Claude Code: `claude -p --output-format json` with the prompt on stdin and
one flag per task option; its final JSON object is the result.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

from pipeline.settings import Settings

# task field -> Claude Code flag taking one value
_VALUE_FLAGS = {
    "model": "--model",
    "maxTurns": "--max-turns",
    "maxBudgetUsd": "--max-budget-usd",
    "appendSystemPrompt": "--append-system-prompt",
    "permissionMode": "--permission-mode",
    "resume": "--resume",
}
# task field -> Claude Code flag taking several values
_LIST_FLAGS = {"allowedTools": "--allowedTools", "disallowedTools": "--disallowedTools"}


def build_argv(task: dict[str, Any], settings: Settings) -> list[str]:
    argv = [settings.agent_command, "-p", "--output-format", "json"]
    if task.get("autoApprove") is True:
        argv.append("--dangerously-skip-permissions")
    for field, flag in _LIST_FLAGS.items():
        values = task.get(field)
        if values:
            argv += [flag, *values]
    for field, flag in _VALUE_FLAGS.items():
        value = task.get(field)
        if value is not None:
            argv += [flag, str(value)]
    return argv + list(settings.agent_extra_args)


def build_env(settings: Settings, base: dict[str, str] | None = None) -> dict[str, str]:
    """The agent's environment: ours without CLAUDECODE (so a runner started from
    inside Claude Code does not make the child refuse to start), plus [agent] env."""
    env = dict(os.environ if base is None else base)
    env.pop("CLAUDECODE", None)
    env.update(dict(settings.agent_env))
    if settings.agent_sandboxed:
        env["IS_SANDBOX"] = "1"
    return env


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


def one_line(text: str, limit: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def last_lines(output: str, count: int = 5) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return "\n".join(lines[-count:])
