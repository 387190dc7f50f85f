"""The archive stage: the only place that writes completed/failed/history.

One terminal record per task: first the bounded completed.json / failed.json
under their locks (a damaged file there stops the write before anything is
written), then the append-only history line, which is never trimmed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.domain.settings import Settings
from pipeline.domain.task import Outcome, valid_id
from pipeline.log import logger
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.pending import PendingRecords

# fields that describe a run, not the task; stripped when a record becomes a task again
RUN_FIELDS = {
    "status", "outcome", "startedAt", "completedAt", "failedAt", "durationMs", "exitCode",
    "error", "result", "costUsd", "sessionId", "numTurns", "logFile", "permissionDenials",
    "deniedTools", "subtype", "attempt", "pid", "pidStartTicks", "notBefore", "lastError",
    "resumeSession", "resumeReason", "resumeFeedback",  # steer the next attempt only
    "gitBaseline",
    "attemptId",
}


def build_record(task: dict[str, Any], outcome: Outcome, ended: datetime, attempts: int,
                 error: str | None, run_fields: dict[str, Any], log_file: str | None) -> dict:
    """The task's own fields plus how it ended."""
    record = {k: v for k, v in task.items() if k not in RUN_FIELDS}
    started = parse_iso_or_none(task.get("startedAt"))
    success = outcome is Outcome.SUCCESS
    record.update({
        "status": "success" if success else "failed",
        "outcome": outcome.value,
        "attempts": attempts,
        "startedAt": task.get("startedAt"),
        "completedAt" if success else "failedAt": iso(ended),
        "durationMs": int((ended - started).total_seconds() * 1000) if started else 0,
        "exitCode": None,
        "error": None if success else (error or outcome.value),
        "logFile": log_file,
    })
    record.update(run_fields)
    return record


class Archive:
    def __init__(self, layout: Layout, settings: Settings, events: EventLog) -> None:
        self.layout = layout
        self.events = events
        self.history = HistoryLog(layout.history)
        self.completed = JsonFile(layout.completed, "list")
        self.failed = JsonFile(layout.failed, "list")
        self.limit = settings.history_limit
        self.pending = PendingRecords(layout)
        # runs whose list part is written but whose history line is not yet
        self.half_written: dict[tuple[Any, Any], dict[str, Any]] = {}

    def write(self, record: dict[str, Any]) -> dict[str, Any]:
        """Raises OSError; the caller keeps the task where it was and calls again.

        Two parts, each done once: first the history line (append-only, the record of
        truth), then the bounded list (or the pending file when the list cannot be
        parsed). A retry after a failed list write only writes the list; a crash in
        between is completed at start-up (holds_run). Returns the record written.
        """
        key = (record.get("id"), record.get("startedAt"))
        written = self.half_written.get(key)
        if written is None:
            self.history.append(_day(record), record)
            self.half_written[key] = written = record
        self._add_to_list(written)
        del self.half_written[key]
        return written

    def _add_to_list(self, record: dict[str, Any]) -> None:
        target = self.completed if record["status"] == "success" else self.failed
        try:
            self.pending.flush_into(target, self.limit)
            target.update(lambda data: _append_bounded(data, [record], self.limit))
        except CorruptFile as error:
            self.pending.park(record, error)

    def record_end(self, task: dict[str, Any], outcome: Outcome, now: datetime,
                   error: str | None, attempts: int,
                   fields: dict[str, Any] | None = None) -> dict[str, Any]:
        """Archive how a task ended, with its event and log line; returns the record."""
        log_path = self.layout.task_log(task["id"]) if valid_id(task.get("id")) else None
        log_file = str(log_path) if log_path and log_path.exists() else None
        record = build_record(task, outcome, now, attempts, error, fields or {}, log_file)
        return self.publish(record)

    def publish(self, record: dict[str, Any]) -> dict[str, Any]:
        """Write a finished record, with its log line and event (hooks); returns the record
        written (after a retried write, the one written the first time)."""
        record = self.write(record)
        outcome = Outcome(record["outcome"])
        log = logger.bind(task=record["id"])
        if outcome is Outcome.SUCCESS:
            log.info("success after {} attempt(s) in {} ms", record["attempts"],
                     record["durationMs"])
            self.events.emit(EventKind.TASK_DONE, id=record["id"], role=record.get("role"),
                             scheduledId=record.get("scheduledId"))
        elif outcome is Outcome.CANCELLED:  # the user's decision, not a failure
            log.info("cancelled (archived in failed.json)")
            self.events.emit(EventKind.TASK_CANCELLED, id=record["id"], role=record.get("role"),
                             outcome=outcome.value, error=record["error"])
        else:
            log.warning("{}: {}", outcome, record["error"])
            self.events.emit(EventKind.TASK_FAILED, id=record["id"], role=record.get("role"),
                             outcome=outcome.value, error=record["error"],
                             scheduledId=record.get("scheduledId"))
        return record

    def holds_run(self, task_id: str, started_at: str | None, now: datetime) -> bool:
        """Whether this exact run (id and startedAt) was already archived; a run whose
        history line was written but not its list entry (a crash in between) gets the
        entry now."""
        for file in (self.completed, self.failed):
            try:
                records = file.items()
            except CorruptFile:
                continue
            if any(_same_run(r, task_id, started_at) for r in records):
                return True
        if any(_same_run(r, task_id, started_at) for r in self.pending.records()):
            return True
        logged = self._logged_run(task_id, started_at, now)
        if logged:
            self._add_to_list(logged)
        return logged is not None

    def _logged_run(self, task_id: str, started_at: str | None, now: datetime
                    ) -> dict[str, Any] | None:
        started = parse_iso_or_none(started_at) or now
        first = started.astimezone().date()
        days = {first, first + timedelta(days=1), now.astimezone().date()}
        for day in sorted(days):
            for record in self.history.read(day.isoformat()):
                if _same_run(record, task_id, started_at):
                    return record
        return None


def _day(record: dict[str, Any]) -> str:
    ended = parse_iso_or_none(record.get("completedAt") or record.get("failedAt"))
    if ended is None:  # build_record always sets one: a record without is a bug
        raise ValueError(f"record {record.get('id')!r} has no completedAt/failedAt")
    return ended.astimezone().date().isoformat()


def _append_bounded(data: dict[str, Any], records: list[dict[str, Any]], limit: int) -> None:
    data["list"] = (data["list"] + records)[-limit:]


def _same_run(record: Any, task_id: str, started_at: str | None) -> bool:
    return (isinstance(record, dict) and record.get("id") == task_id
            and record.get("startedAt") == started_at)


def as_task(record: dict[str, Any]) -> dict[str, Any]:
    """A record turned back into a fresh task (for `retry ID`): attempts reset."""
    task = {k: v for k, v in record.items() if k not in RUN_FIELDS | {"totalCostUsd"}}
    task["attempts"] = 0
    return task
