"""The run stage: which queued task goes next, and how its attempt is launched."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from pipeline.agent import session
from pipeline.agent.presets import build_argv, resumable, speaks_claude_json
from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.execution.agent_process import Launch
from pipeline.execution.gitfacts import Snapshot
from pipeline.execution.proctree import MARKER_ENV
from pipeline.storage.layout import Layout


def entry_for(task: Task, now: datetime, settings: Settings) -> Attempt:
    """running.json for the task's next attempt, under the session it runs in."""
    return running_entry(task, now, session.choose_id(task, resumable(settings)))


def git_baseline(entry: Attempt, snapshot: Snapshot | None) -> Attempt:
    """The workspace before the task's first attempt, kept for its later ones (git facts
    and expectChanges span the whole task)."""
    if snapshot is None or entry.task.git_baseline:
        return entry
    return replace(entry, task=replace(entry.task, git_baseline=(snapshot.head, snapshot.tree)))


def running_entry(task: Task, now: datetime, session_id: str | None = None) -> Attempt:
    """What running.json holds for this attempt; with the session id it runs under (known
    before the agent starts, so a crash recovery can resume it)."""
    sessions = (*(task.session_ids or ()), session_id) if session_id else task.session_ids
    resumes = (task.resumes or 0) + (1 if task.resume_session else 0)
    return Attempt(task=replace(task, session_ids=sessions, resumes=resumes),
                   number=task.attempts_made + 1, started_at=iso(now),
                   attempt_id=uuid.uuid4().hex, session_id=session_id)


def attempt_marker(entry: Attempt) -> str:
    """The start of an attempt's header line in the task log (recovery looks for it)."""
    return f"===== attempt {entry.number} at {entry.started_at}"


SHOWN_VALUES = ("--session-id", "--resume", "--permission-prompts")  # ids and modes: no secret


def flag_names(argv: list[str]) -> list[str]:
    """What the task log shows of argv: the executable and the flag names - never a value
    (a system prompt, settings JSON, a prompt given in argv) but the session's id, which
    says what a later attempt resumes."""
    return [argv[0]] + [part if part.split("=", 1)[0] in SHOWN_VALUES else part.split("=", 1)[0]
                        for part in argv[1:] if part.startswith("-")]


def launch_for(entry: Attempt, layout: Layout, settings: Settings,
               env: dict[str, str], features: frozenset[str] = frozenset()) -> Launch:
    task = entry.task
    workspace = Path(task.workspace or layout.root)
    prompt_file = layout.task_logs / f"{task.id}.prompt"
    prompt = session.prompt_for(task, settings)
    argv = build_argv(session.agent_view(task, prompt), settings, str(workspace),
                      str(prompt_file))
    if speaks_claude_json(settings):
        argv += session.session_flags(entry, features)
    header = f"\n{attempt_marker(entry)}: {' '.join(flag_names(argv))}\n"
    return Launch(
        argv=argv,
        cwd=workspace,
        env={**env, MARKER_ENV: entry.attempt_id or ""},
        prompt=prompt,
        prompt_file=prompt_file,
        log_path=layout.task_log(task.id),
        header=header,
        timeout=task.timeout_ms(settings) / 1000,
        kill_grace=settings.kill_grace,
        idle_timeout=settings.idle_timeout,
        watch_output=settings.agent_stream and speaks_claude_json(settings),
        verify=task.verify or (),
        verify_timeout=settings.verify_timeout,
        git_baseline=task.git_baseline or None,
        marker=entry.attempt_id or "",
    )
