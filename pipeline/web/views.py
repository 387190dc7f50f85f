"""What each view shows, as plain dicts for the templates. Read through the same
functions as the CLI (status.collect, TaskQueue, the report builder); no writes."""

from __future__ import annotations

import contextlib
from datetime import date, datetime
from itertools import islice
from typing import Any

from pipeline.cli.status import collect
from pipeline.domain.order import run_order
from pipeline.domain.record import iter_records
from pipeline.domain.schedule import Schedule, schedules_in
from pipeline.domain.settings import Settings
from pipeline.report.build import build_report
from pipeline.scheduling.checks import zone_of
from pipeline.scheduling.cron import CronError, next_n
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue
from pipeline.web import history
from pipeline.web.present import cron_words, progress_line

LOG_TAIL_BYTES = 64 * 1024
RECENT_FAILED = 10


def tail(path: Any, limit: int = LOG_TAIL_BYTES) -> tuple[str, bool]:
    """The last `limit` bytes of a file as text, and whether anything before was cut."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except OSError:
        return "", False
    return data.decode("utf-8", errors="replace"), size > limit




def overview(layout: Layout, settings: Settings, now: datetime) -> dict[str, Any]:
    status = collect(layout, settings, now)
    running = status["runningTask"]
    cost = None
    if running:
        with contextlib.suppress(CorruptFile):
            attempt = TaskQueue(layout, settings).running_attempt()
            cost = attempt.task.total_cost_usd if attempt else None
    return {
        "status": status,
        "running": running,
        "running_cost": cost,
        "progress": progress_line(tail(layout.task_log(running["id"]), 16384)[0])
        if running else "",
        "high": settings.high_watermark,
        "low": settings.low_watermark,
    }


def queue_view(layout: Layout, settings: Settings, now: datetime) -> dict[str, Any]:
    queue = TaskQueue(layout, settings)
    error = None
    try:
        queued = queue.tasks()
    except CorruptFile as problem:
        queued, error = [], str(problem)
    ready = run_order(queued, now)
    waiting = [t for t in queued if t not in ready]
    try:
        newest_first = iter_records(reversed(JsonFile(layout.failed, "list").items()))
        failed = list(islice(newest_first, RECENT_FAILED))  # only these are converted
    except CorruptFile:
        failed = []
    status = collect(layout, settings, now, detail=False)
    return {"ready": [t.to_dict() for t in ready], "waiting": [t.to_dict() for t in waiting],
            "error": error, "status": status, "failed": [r.to_dict() for r in failed],
            "high": settings.high_watermark, "low": settings.low_watermark}


def _schedule_row(schedule: Schedule, now: datetime) -> dict[str, Any]:
    upcoming: list[datetime] = []
    problem = schedule.error
    try:
        upcoming = next_n(str(schedule.written("cron")), zone_of(schedule), now, 5)
    except CronError as error:
        problem = problem or str(error)
    return {"s": schedule.to_dict(), "words": cron_words(schedule.written("cron")),
            "enabled": schedule.enabled, "next": upcoming, "problem": problem}


def schedules_view(layout: Layout, now: datetime) -> dict[str, Any]:
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except CorruptFile as problem:
        return {"rows": [], "error": str(problem)}
    return {"rows": [_schedule_row(s, now) for s in schedules_in(schedules)],
            "error": None}


def history_view(layout: Layout, query: history.HistoryQuery) -> dict[str, Any]:
    found = history.page(layout, query)
    return {"page": {"records": [r.to_dict() for r in found.records],
                     "has_next": found.has_next}, "q": query}


def task_view(layout: Layout, settings: Settings, task_id: str) -> dict[str, Any] | None:
    found = history.find_task(layout, TaskQueue(layout, settings), task_id)
    if found is None:
        return None
    log, cut = tail(layout.task_log(task_id))
    return {"found": found, "task": found.task.to_dict(), "log": log, "log_cut": cut,
            "following": found.where in ("running", "queued")}


def report_view(layout: Layout, settings: Settings, day: date, now: datetime
                ) -> dict[str, Any]:
    report = build_report(layout, day, now, settings.poll_interval)
    week = [*report["comparison"]["daily"], {"day": report["day"], "hasData": True,
                                             **report["summary"]}]
    return {"report": report, "week": week, "goals": report.get("goals")}
