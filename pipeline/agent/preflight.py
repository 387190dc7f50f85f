"""Reasons an attempt cannot work at all, known before it starts (so it fails at once, or is
refused at `add` time, instead of burning retries)."""

from __future__ import annotations

import os

from pipeline.agent.presets import speaks_claude_json
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task


def is_sandbox(env: dict[str, str]) -> bool:
    """IS_SANDBOX as Claude Code reads it: 1, yes or true (any case)."""
    return env.get("IS_SANDBOX", "").strip().lower() in ("1", "yes", "true")


def preflight(task: Task, settings: Settings, env: dict[str, str]) -> str | None:
    """A reason the attempt cannot work at all, so it fails at once instead of retrying.

    Claude Code refuses --dangerously-skip-permissions as root unless IS_SANDBOX=1.
    """
    if settings.workspace_roots and not task.workspace:
        return ("no workspace: with workspace_roots set a task must name one inside them "
                "(the runner's own root is never used then)")
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    claude = speaks_claude_json(settings)
    if claude and task.auto_approve is True and is_root and not is_sandbox(env):
        return ("autoApprove as root: Claude Code refuses --dangerously-skip-permissions for "
                "root unless IS_SANDBOX=1; set [agent] sandboxed = true in runner.toml if this "
                "machine is a sandbox, or run the runner as a normal user")
    return None
