"""The run stage: which queued task goes next, and how its attempt is launched."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.agent import session
from pipeline.agent.presets import build_argv, resumable, speaks_claude_json
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.execution.agent_process import Launch
from pipeline.execution.gitfacts import Snapshot
from pipeline.execution.proctree import MARKER_ENV
from pipeline.storage.layout import Layout


def entry_for(task: dict[str, Any], now: datetime, settings: Settings) -> dict[str, Any]:
    """running.json for the task's next attempt, under the session it runs in."""
    return running_entry(task, now, session.choose_id(task, resumable(settings)))


def git_baseline(entry: dict[str, Any], snapshot: Snapshot | None) -> dict[str, Any]:
    """The workspace before the task's first attempt, kept for its later ones (git facts
    and expectChanges span the whole task)."""
    if snapshot is None or entry.get("gitBaseline"):
        return {}
    return {"gitBaseline": [snapshot.head, snapshot.tree]}


def running_entry(task: dict[str, Any], now: datetime,
                  session_id: str | None = None) -> dict[str, Any]:
    """What running.json holds for this attempt; with the session id it runs under (known
    before the agent starts, so a crash recovery can resume it)."""
    attempt = int(task.get("attempts") or 0) + 1
    entry = {**task, "startedAt": iso(now), "attempt": attempt, "pid": None,
             "attemptId": uuid.uuid4().hex}
    if session_id:
        entry["sessionId"] = session_id
        entry["sessionIds"] = [*(task.get("sessionIds") or []), session_id]
    entry["resumes"] = int(task.get("resumes") or 0) + (1 if task.get("resumeSession") else 0)
    return entry


def attempt_marker(entry: dict[str, Any]) -> str:
    """The start of an attempt's header line in the task log (recovery looks for it)."""
    return f"===== attempt {entry['attempt']} at {entry['startedAt']}"


SHOWN_VALUES = ("--session-id", "--resume", "--permission-prompts")  # ids and modes: no secret


def flag_names(argv: list[str]) -> list[str]:
    """What the task log shows of argv: the executable and the flag names - never a value
    (a system prompt, settings JSON, a prompt given in argv) but the session's id, which
    says what a later attempt resumes."""
    return [argv[0]] + [part if part.split("=", 1)[0] in SHOWN_VALUES else part.split("=", 1)[0]
                        for part in argv[1:] if part.startswith("-")]


def launch_for(entry: dict[str, Any], layout: Layout, settings: Settings,
               env: dict[str, str], features: frozenset[str] = frozenset()) -> Launch:
    workspace = Path(entry.get("workspace") or layout.root)
    prompt_file = layout.task_logs / f"{entry['id']}.prompt"
    prompt = session.prompt_for(entry, settings)
    view = {**session.agent_view(entry), "prompt": prompt}
    argv = build_argv(view, settings, str(workspace), str(prompt_file))
    if speaks_claude_json(settings):
        argv += session.session_flags(entry, features)
    header = f"\n{attempt_marker(entry)}: {' '.join(flag_names(argv))}\n"
    return Launch(
        argv=argv,
        cwd=workspace,
        env={**env, MARKER_ENV: entry.get("attemptId", "")},
        prompt=prompt,
        prompt_file=prompt_file,
        log_path=layout.task_log(entry["id"]),
        header=header,
        timeout=Task.from_dict(entry).timeout_ms(settings) / 1000,
        kill_grace=settings.kill_grace,
        idle_timeout=settings.idle_timeout,
        watch_output=settings.agent_stream and speaks_claude_json(settings),
        verify=tuple(entry.get("verify") or ()),
        verify_timeout=settings.verify_timeout,
        git_baseline=tuple(entry["gitBaseline"]) if entry.get("gitBaseline") else None,
        marker=entry.get("attemptId", ""),
    )
