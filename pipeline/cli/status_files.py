"""What `status` reads beside the queue and the running task: the recent records, today's
outcomes, the last failure, the schedules' next firings and errors, rejected inbox files."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.outcome import Outcome
from pipeline.domain.record import Record, records_in
from pipeline.domain.schedule import schedules_in
from pipeline.domain.task import NotATask
from pipeline.stages.inbox_entry import readable
from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile
from pipeline.storage.layout import Layout


def _count(path_file: JsonFile) -> int | None:
    try:
        return len(path_file.items())
    except CorruptFile:
        return None


def failed_entries(layout: Layout) -> list[Any] | None:
    """failed.json's entries (None: it cannot be parsed); read once per status."""
    try:
        return JsonFile(layout.failed, "list").items()
    except CorruptFile:
        return None


def counts(layout: Layout, failed: list[Any] | None) -> dict[str, int | None]:
    """Recent records; cancellations apart from failures (a cancel is not a failure)."""
    if failed is None:
        return {"completed": _count(JsonFile(layout.completed, "list")), "failed": None,
                "cancelled": None}
    cancelled = sum(_cancelled(r) for r in records_in(failed))
    return {"completed": _count(JsonFile(layout.completed, "list")),
            "failed": len(failed) - cancelled, "cancelled": cancelled}


def _cancelled(record: Record) -> bool:
    return record.outcome is Outcome.CANCELLED


def today(layout: Layout, now: datetime) -> dict[str, int]:
    records = HistoryLog(layout.history).records(now.astimezone().date().isoformat())
    completed = sum(r.succeeded for r in records)
    cancelled = sum(_cancelled(r) for r in records)
    return {"completed": completed, "failed": len(records) - completed - cancelled,
            "cancelled": cancelled}


def last_failure(failed: list[Any] | None) -> dict[str, Any] | None:
    """The newest failure that is not a cancel: read from the end, record by record (the
    newest is usually it, so the file is not converted whole a second time)."""
    for entry in reversed(failed or []):
        try:
            last = Record.from_dict(entry)
        except NotATask:
            continue
        if not _cancelled(last):
            return {"id": last.id, "outcome": last.outcome_name, "error": last.error,
                    "failedAt": last.failed_at}
    return None


def next_firings(layout: Layout, count: int = 3) -> list[dict[str, Any]]:
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except CorruptFile:
        return []
    upcoming = [(parse_iso_or_none(s.next_run), s.written("id")) for s in schedules_in(schedules)
                if s.enabled]
    upcoming = sorted((moment, sid) for moment, sid in upcoming if moment)
    return [{"id": sid, "at": moment.isoformat()} for moment, sid in upcoming[:count]]


def broken_schedules(layout: Layout) -> list[dict[str, Any]]:
    """Schedules the daemon found unusable (their `error`): they do not fire."""
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except CorruptFile:
        return []
    return [{"id": s.written("id"), "error": s.error} for s in schedules_in(schedules)
            if s.error]


def rejected_inbox(layout: Layout, shown: int = 5) -> dict[str, Any]:
    """Inbox files refused (each has a <name>.error.json with the reasons beside it)."""
    try:
        reports = sorted(layout.rejected.glob("*.error.json"), key=lambda p: p.stat().st_mtime)
    except OSError:
        reports = []
    return {"count": len(reports),
            "latest": [readable(p.name.removesuffix(".error.json")) for p in reports[-shown:]]}
