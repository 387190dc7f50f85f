"""The run stage: which queued task goes next, and how its attempt is launched."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.agent.presets import build_argv
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.task import timeout_ms
from pipeline.execution.slot import Launch
from pipeline.storage.layout import Layout


def running_entry(task: dict[str, Any], now: datetime) -> dict[str, Any]:
    attempt = int(task.get("attempts") or 0) + 1
    return {**task, "startedAt": iso(now), "attempt": attempt, "pid": None}


def attempt_marker(entry: dict[str, Any]) -> str:
    """The start of an attempt's header line in the task log (recovery looks for it)."""
    return f"===== attempt {entry['attempt']} at {entry['startedAt']}"


def flag_names(argv: list[str]) -> list[str]:
    """What the task log shows of argv: the executable and the flag names - never a value
    (a system prompt, settings JSON, a prompt given in argv)."""
    return [argv[0]] + [part.split("=", 1)[0] for part in argv[1:] if part.startswith("-")]


def launch_for(entry: dict[str, Any], layout: Layout, settings: Settings,
               env: dict[str, str]) -> Launch:
    workspace = Path(entry.get("workspace") or layout.root)
    prompt_file = layout.task_logs / f"{entry['id']}.prompt"
    argv = build_argv(entry, settings, str(workspace), str(prompt_file))
    header = f"\n{attempt_marker(entry)}: {' '.join(flag_names(argv))}\n"
    return Launch(
        argv=argv,
        cwd=workspace,
        env=env,
        prompt=entry["prompt"],
        prompt_file=prompt_file,
        log_path=layout.task_log(entry["id"]),
        header=header,
        timeout=timeout_ms(entry, settings) / 1000,
        kill_grace=settings.kill_grace,
        idle_timeout=settings.idle_timeout,
        watch_output=settings.agent_stream,
    )
