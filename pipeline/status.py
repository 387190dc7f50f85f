"""What `status` reports: computed from the files alone, so it works with the
daemon up or down and never needs to talk to it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.clock import parse_iso_or_none
from pipeline.layout import Layout
from pipeline.procgroup import pid_alive
from pipeline.queuefile import TaskQueue
from pipeline.settings import Settings
from pipeline.store import CorruptFile, JsonFile


def daemon_status(state: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    """`alive` means: a file dropped now will be seen (live pid and a fresh heartbeat)."""
    pid = state.get("pid")
    heartbeat = parse_iso_or_none(state.get("heartbeatAt"))
    fresh = heartbeat is not None and (now - heartbeat).total_seconds() < \
        settings.heartbeat_max_age
    alive = isinstance(pid, int) and pid > 0 and pid_alive(pid) and fresh
    started = parse_iso_or_none(state.get("startedAt"))
    return {
        "alive": alive,
        "pid": pid,
        "heartbeatAt": state.get("heartbeatAt"),
        "startedAt": state.get("startedAt"),
        "uptimeSeconds": int((now - started).total_seconds()) if alive and started else None,
    }


def _count(path_file: JsonFile) -> int | None:
    try:
        return len(path_file.items())
    except CorruptFile:
        return None


def collect(layout: Layout, settings: Settings, now: datetime) -> dict[str, Any]:
    queue = TaskQueue(layout, settings)
    state = queue.state.read()
    try:
        queued = queue.tasks()
        length: int | None = len(queued)
        level: str | None = queue.level(length)
    except CorruptFile as error:
        queued, length, level = [], None, f"unknown ({error.reason})"
    try:
        running = queue.running_task()
    except CorruptFile:
        running = None
    paused = parse_iso_or_none(state.get("pausedUntil"))
    return {
        "daemon": daemon_status(state, settings, now),
        "running": running["id"] if running else None,
        "runningTask": _running_view(running, now),
        "queue": {"length": length, "level": level,
                  "next": [t.get("id") for t in queued[:5] if isinstance(t, dict)]},
        "pausedUntil": state.get("pausedUntil") if paused and paused > now else None,
        "pauseReason": state.get("pauseReason") if paused and paused > now else None,
        "counts": {"completed": _count(JsonFile(layout.completed, "list")),
                   "failed": _count(JsonFile(layout.failed, "list"))},
    }


def _running_view(running: dict[str, Any] | None, now: datetime) -> dict[str, Any] | None:
    if not running:
        return None
    started = parse_iso_or_none(running.get("startedAt"))
    return {
        "id": running.get("id"),
        "name": running.get("name"),
        "role": running.get("role"),
        "attempt": running.get("attempt"),
        "startedAt": running.get("startedAt"),
        "elapsedSeconds": int((now - started).total_seconds()) if started else None,
        "timeout": running.get("timeout"),
        "pid": running.get("pid"),
    }


def render(status: dict[str, Any]) -> str:
    daemon = status["daemon"]
    lines = [
        f"daemon   {'alive' if daemon['alive'] else 'NOT RUNNING'}"
        + (f" (pid {daemon['pid']}, up {daemon['uptimeSeconds']} s, "
           f"heartbeat {daemon['heartbeatAt']})" if daemon["alive"] else ""),
    ]
    task = status["runningTask"]
    if task:
        label = " ".join(str(x) for x in (task["name"], task["role"] and f"[{task['role']}]")
                         if x)
        lines.append(f"running  {task['id']} {label} - attempt {task['attempt']}, "
                     f"{task['elapsedSeconds']} s elapsed")
    else:
        lines.append("running  nothing")
    queue = status["queue"]
    lines.append(f"queue    {queue['length']} task(s), level {queue['level']}"
                 + (f"; next: {', '.join(queue['next'])}" if queue["next"] else ""))
    if status["pausedUntil"]:
        lines.append(f"paused   until {status['pausedUntil']} ({status['pauseReason']})")
    counts = status["counts"]
    lines.append(f"results  {counts['completed']} completed, {counts['failed']} failed (recent)")
    return "\n".join(lines)
