"""The run stage: which queued task goes next, and how its attempt is launched."""

from __future__ import annotations

import os
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.agent.presets import build_argv, speaks_claude_json
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.task import timeout_ms
from pipeline.execution.proctree import MARKER_ENV
from pipeline.execution.slot import Launch
from pipeline.storage.layout import Layout


def preflight(task: dict[str, Any], settings: Settings, env: dict[str, str]) -> str | None:
    """A reason the attempt cannot work at all, so it fails at once instead of retrying.

    Claude Code refuses --dangerously-skip-permissions as root unless IS_SANDBOX=1.
    """
    is_root = hasattr(os, "geteuid") and os.geteuid() == 0
    claude = speaks_claude_json(settings)
    if claude and task.get("autoApprove") is True and is_root and env.get("IS_SANDBOX") != "1":
        return ("autoApprove as root: Claude Code refuses --dangerously-skip-permissions for "
                "root unless IS_SANDBOX=1; set [agent] sandboxed = true in runner.toml if this "
                "machine is a sandbox, or run the runner as a normal user")
    return None


def running_entry(task: dict[str, Any], now: datetime) -> dict[str, Any]:
    attempt = int(task.get("attempts") or 0) + 1
    return {**task, "startedAt": iso(now), "attempt": attempt, "pid": None,
            "attemptId": uuid.uuid4().hex}


def attempt_marker(entry: dict[str, Any]) -> str:
    """The start of an attempt's header line in the task log (recovery looks for it)."""
    return f"===== attempt {entry['attempt']} at {entry['startedAt']}"


def launch_for(entry: dict[str, Any], layout: Layout, settings: Settings,
               env: dict[str, str]) -> Launch:
    workspace = Path(entry.get("workspace") or layout.root)
    prompt_file = layout.task_logs / f"{entry['id']}.prompt"
    argv = build_argv(entry, settings, str(workspace), str(prompt_file))
    shown = argv if speaks_claude_json(settings) else [argv[0], "…"]
    header = f"\n{attempt_marker(entry)}: {' '.join(shown)}\n"
    return Launch(
        argv=argv,
        cwd=workspace,
        env={**env, MARKER_ENV: entry.get("attemptId", "")},
        prompt=entry["prompt"],
        prompt_file=prompt_file,
        log_path=layout.task_log(entry["id"]),
        header=header,
        timeout=timeout_ms(entry, settings) / 1000,
        kill_grace=settings.kill_grace,
        idle_timeout=settings.idle_timeout,
        watch_output=settings.agent_stream,
        marker=entry.get("attemptId", ""),
    )
