"""What `status` reports: computed from the files alone, so it works with the
daemon up or down and never needs to talk to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.cli import status_files as files
from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.order import run_order
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, tasks_in
from pipeline.execution.procgroup import pid_alive
from pipeline.report.uptime import first_start, load_heartbeats, uptime
from pipeline.storage.jsonfile import CorruptFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


def daemon_status(state: dict[str, Any], settings: Settings, now: datetime) -> dict[str, Any]:
    """`alive` means: a file dropped now will be seen (live pid and a fresh heartbeat)."""
    pid = state.get("pid")
    heartbeat = parse_iso_or_none(state.get("heartbeatAt"))
    fresh = heartbeat is not None and (now - heartbeat).total_seconds() < \
        settings.heartbeat_max_age
    running = isinstance(pid, int) and pid > 0 and pid_alive(pid) and fresh
    stalled = running and loop_stalled(state, settings, now)
    alive = running and not stalled
    started = parse_iso_or_none(state.get("startedAt"))
    return {
        "alive": alive,
        "stalled": stalled,
        "tickAt": state.get("tickAt"),
        "pid": pid,
        "heartbeatAt": state.get("heartbeatAt"),
        "startedAt": state.get("startedAt"),
        "uptimeSeconds": int((now - started).total_seconds()) if alive and started else None,
    }


def loop_stalled(state: dict[str, Any], settings: Settings, now: datetime) -> bool:
    """The process beats but its loop has not completed a tick for longer than a heartbeat
    may be old: something wedges every tick, so nothing is admitted or run. (A state
    written by a runner that did not record `tickAt` is not judged.)"""
    if "tickAt" not in state:
        return False
    ticked = parse_iso_or_none(state.get("tickAt"))
    return ticked is None or (now - ticked).total_seconds() >= settings.heartbeat_max_age


def uptime_percent(layout: Layout, settings: Settings, now: datetime, hours: int
                   ) -> float | None:
    born = first_start(layout)
    if born is None:
        return None
    start = max(now - timedelta(hours=hours), born)  # not before the runner first started
    beats = load_heartbeats(layout, start, now, pad=timedelta(hours=1))
    return uptime(beats, start, now, settings.heartbeat_max_age).percent


@dataclass(frozen=True)
class QueueRead:
    """queue.json as status reads it once: its tasks, its length (every entry counts) and
    level; a damaged file reads as no tasks, length None and level "unknown (why)"."""
    tasks: list[Task]
    length: int | None
    level: str | None


def read_queue(queue: TaskQueue) -> QueueRead:
    try:
        entries = queue.entries()
    except CorruptFile as error:
        return QueueRead([], None, f"unknown ({error.reason})")
    return QueueRead(tasks_in(entries), len(entries), queue.level(len(entries)))


def collect(layout: Layout, settings: Settings, now: datetime, detail: bool = True,
            queued: QueueRead | None = None) -> dict[str, Any]:
    """The contract's status object; with `detail`, also uptime, today's counts, the last
    failure and the next schedule firings (what a person wants on one screen). `queued`:
    the queue as the caller read it already (else it is read here)."""
    failed = files.failed_entries(layout)
    status = _core(layout, settings, now, failed, queued)
    if settings.backend_kind == "postgres":
        _add_cluster(status, settings, now)
    if detail:
        status.update(
            uptime={"last24h": uptime_percent(layout, settings, now, 24),
                    "last7d": uptime_percent(layout, settings, now, 24 * 7)},
            today=files.today(layout, now),
            lastFailure=files.last_failure(failed),
            nextSchedules=files.next_firings(layout),
            brokenSchedules=files.broken_schedules(layout),
            rejectedInbox=files.rejected_inbox(layout),
        )
    return status


def _core(layout: Layout, settings: Settings, now: datetime, failed: list[Any] | None,
          queued: QueueRead | None) -> dict[str, Any]:
    queue = TaskQueue(layout, settings)
    state = queue.state.read()
    read = queued or read_queue(queue)
    try:
        running = queue.running_attempt()
    except CorruptFile:
        running = None
    paused = parse_iso_or_none(state.get("pausedUntil"))
    return {
        "daemon": daemon_status(state, settings, now),
        "running": running.id if running else None,
        "runningTask": _running_view(running, now),
        "queue": {"length": read.length, "level": read.level,
                  "next": [_label(t, now) for t in _upcoming(read.tasks, now)[:5]]},
        "pausedUntil": state.get("pausedUntil") if paused and paused > now else None,
        "pauseReason": state.get("pauseReason") if paused and paused > now else None,
        "pauseClass": state.get("pauseClass") if paused and paused > now else None,
        "counts": files.counts(layout, failed),
        "root": str(layout.root),
        "agentProblem": state.get("agentProblem"),
    }


def _add_cluster(status: dict[str, Any], settings: Settings, now: datetime) -> None:
    """Nodes, accounts and the tasks running on them (postgres backend)."""
    from pipeline.postgres.status import cluster_status

    status.update(cluster_status(settings, now))
    if status["runningTasks"] and not status["running"]:
        status["running"] = status["runningTasks"][0]["id"]


def _upcoming(queued: list[Task], now: datetime) -> list[Task]:
    """The run order, then the tasks waiting out a retry delay."""
    ready = run_order(queued, now)
    placed = {id(t) for t in ready}  # identity, not equality: linear in the queue's length
    return ready + [t for t in queued if id(t) not in placed]


def _label(task: Task, now: datetime) -> str:
    extra = " ".join(label for label in (task.name, task.role) if label)
    waits = task.ready_at()
    if waits and waits > now:  # a retry time already past (say, during a pause) is noise
        extra = f"{extra} retry at {task.not_before}".strip()
    return f"{task.id} ({extra})" if extra else task.id


def _running_view(running: Attempt | None, now: datetime) -> dict[str, Any] | None:
    if not running:
        return None
    started = parse_iso_or_none(running.started_at)
    task = running.task
    return {
        "id": running.id,
        "name": task.name,
        "role": task.role,
        "attempt": running.number,
        "startedAt": running.started_at,
        "elapsedSeconds": int((now - started).total_seconds()) if started else None,
        "timeout": task.timeout,
        "pid": running.pid,
        "lastActivityAt": running.last_activity_at,
        "numTurns": running.num_turns,
    }


_HOW_TO_START = ("NOT RUNNING - start it: claude-runner run (foreground), or "
                 "scripts/start-pm2.sh (24/7 under PM2)")


def _down(daemon: dict[str, Any]) -> str:
    if daemon.get("stalled"):
        return (f"STALLED (pid {daemon['pid']} beats, but no tick has completed since "
                f"{daemon['tickAt']}; see `claude-runner logs`)")
    return _HOW_TO_START


def render(status: dict[str, Any]) -> str:
    daemon = status["daemon"]
    lines = [
        f"daemon   {'alive' if daemon['alive'] else _down(daemon)}"
        + (f" (pid {daemon['pid']}, up {daemon['uptimeSeconds']} s, "
           f"heartbeat {daemon['heartbeatAt']})" if daemon["alive"] else ""),
    ]
    task = status["runningTask"]
    if task:
        label = " ".join(str(x) for x in (task["name"], task["role"] and f"[{task['role']}]")
                         if x)
        timeout = f" of {task['timeout'] // 1000} s" if task["timeout"] else ""
        activity = f", last activity {task['lastActivityAt']}" if task["lastActivityAt"] else ""
        lines.append(f"running  {task['id']} {label} - attempt {task['attempt']}, "
                     f"{task['elapsedSeconds']} s elapsed{timeout}{activity}")
    else:
        lines.append("running  nothing")
    queue = status["queue"]
    length = "?" if queue["length"] is None else queue["length"]
    lines.append(f"queue    {length} task(s), level {queue['level']}"
                 + (f"; next: {', '.join(queue['next'])}" if queue["next"] else ""))
    if status.get("agentProblem"):
        lines.append(f"agent    {status['agentProblem']}")
    if status["pausedUntil"]:
        kind = f"{status['pauseClass']} limit: " if status.get("pauseClass") else ""
        lines.append(f"paused   {_until(status['pausedUntil'])} ({kind}{status['pauseReason']}; "
                     "`claude-runner resume` lifts it)")
    if "nodes" in status:
        from pipeline.postgres.status import render_lines

        lines += render_lines(status)
    counts = status["counts"]
    lines.append(f"results  {counts['completed']} completed, {counts['failed']} failed, "
                 f"{counts.get('cancelled', 0)} cancelled (recent)")
    return "\n".join(lines + _detail_lines(status))


def _until(text: str) -> str:
    from pipeline.domain.clock import now
    from pipeline.domain.when import is_indefinite

    moment = parse_iso_or_none(text)
    return "until resumed" if moment and is_indefinite(moment, now()) else f"until {text}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def _detail_lines(status: dict[str, Any]) -> list[str]:
    if "uptime" not in status:
        return []
    today, up = status["today"], status["uptime"]
    lines = [f"uptime   {_percent(up['last24h'])} (24 h), {_percent(up['last7d'])} (7 d)",
             f"today    {today['completed']} completed, {today['failed']} failed, "
             f"{today.get('cancelled', 0)} cancelled"]
    failure = status["lastFailure"]
    if failure:
        lines.append(f"last failure  {failure['id']} at {failure['failedAt']} "
                     f"({failure['outcome']}): {failure['error']}")
    for firing in status["nextSchedules"]:
        lines.append(f"schedule {firing['id']} next at {firing['at']}")
    for broken in status.get("brokenSchedules", []):
        lines.append(f"schedule {broken['id']} BROKEN, does not fire: {broken['error']}")
    rejected = status.get("rejectedInbox") or {}
    if rejected.get("count"):
        lines.append(f"rejected {rejected['count']} inbox file(s) in inbox/rejected/ (reasons in "
                     f"<name>.error.json), latest: {', '.join(rejected['latest'])}")
    return lines
