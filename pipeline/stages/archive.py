"""The archive stage: the only place that writes completed/failed/history.

One terminal record per task: first the bounded completed.json / failed.json
under their locks (a damaged file there stops the write before anything is
written), then the append-only history line, which is never trimmed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.domain.attempt import Attempt, RunFacts
from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.domain.outcome import Outcome, Status
from pipeline.domain.record import Record, records_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, without_notes
from pipeline.log import logger
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.pending import PendingRecords


def build_record(ended: Task | Attempt, outcome: Outcome, at: datetime, attempts: int,
                 error: str | None, run_fields: RunFacts, log_file: str | None) -> Record:
    """The task's own fields plus how it ended (`run_fields`: what the attempt reported)."""
    task, started_at = (ended.task, ended.started_at) if isinstance(ended, Attempt) \
        else (ended, None)
    started = parse_iso_or_none(started_at)
    success = outcome is Outcome.SUCCESS
    ended_key = "completedAt" if success else "failedAt"
    return Record.from_dict({
        **without_notes(task).to_dict(),
        "status": Status.of(outcome).value,
        "outcome": outcome.value,
        "attempts": attempts,
        "startedAt": started_at,
        ended_key: iso(at),
        "durationMs": int((at - started).total_seconds() * 1000) if started else 0,
        "exitCode": None,
        "error": None if success else (error or outcome.value),
        "logFile": log_file,
        **run_fields.to_dict(),
    })


class Archive:
    def __init__(self, layout: Layout, settings: Settings, events: EventLog) -> None:
        self.layout = layout
        self.events = events
        self.history = HistoryLog(layout.history)
        self.completed = JsonFile(layout.completed, "list")
        self.failed = JsonFile(layout.failed, "list")
        self.limit = settings.history_limit
        self.pending = PendingRecords(layout)
        # runs whose history line is written but whose list part is not yet
        self.half_written: dict[tuple[str, str | None], Record] = {}

    def write(self, record: Record) -> Record:
        """Raises OSError; the caller keeps the task where it was and calls again.

        Two parts, each done once: first the history line (append-only, the record of
        truth), then the bounded list (or the pending file when the list cannot be
        parsed). A retry after a failed list write only writes the list; a crash in
        between is completed at start-up (holds_run). Returns the record written.
        """
        key = (record.id, record.started_at)
        written = self.half_written.get(key)
        if written is None:
            self.history.append(_day(record), record.to_dict())
            self.half_written[key] = written = record
        self._add_to_list(written)
        del self.half_written[key]
        return written

    def _add_to_list(self, record: Record) -> None:
        target = self.completed if record.succeeded else self.failed
        try:
            self.pending.flush_into(target, self.limit)
            target.update(lambda data: _append_bounded(data, [record.to_dict()], self.limit))
        except CorruptFile as error:
            self.pending.park(record, error)

    def record_end(self, ended: Task | Attempt, outcome: Outcome, now: datetime,
                   error: str | None, attempts: int,
                   fields: RunFacts | None = None) -> Record:
        """Archive how a task ended, with its event and log line; returns the record."""
        log_path = self.layout.task_log(ended.id)
        log_file = str(log_path) if log_path.exists() else None
        record = build_record(ended, outcome, now, attempts, error, fields or RunFacts(),
                              log_file)
        return self.publish(record)

    def publish(self, record: Record) -> Record:
        """Write a finished record, with its log line and event (hooks); returns the record
        written (after a retried write, the one written the first time)."""
        record = self.write(record)
        outcome = record.outcome
        log = logger.bind(task=record.id)
        role, scheduled_id = record.task.role, record.task.scheduled_id
        if outcome is Outcome.SUCCESS:
            log.info("success after {} attempt(s) in {} ms", record.attempts,
                     record.duration_ms)
            self.events.emit(EventKind.TASK_DONE, id=record.id, role=role,
                             scheduledId=scheduled_id)
        elif outcome is Outcome.CANCELLED:  # the user's decision, not a failure
            log.info("cancelled (archived in failed.json)")
            self.events.emit(EventKind.TASK_CANCELLED, id=record.id, role=role,
                             outcome=record.outcome_name, error=record.error)
        else:
            log.warning("{}: {}", record.outcome_name, record.error)
            self.events.emit(EventKind.TASK_FAILED, id=record.id, role=role,
                             outcome=record.outcome_name, error=record.error,
                             scheduledId=scheduled_id)
        return record

    def holds_run(self, task_id: str, started_at: str | None, now: datetime) -> bool:
        """Whether this exact run (id and startedAt) was already archived; a run whose
        history line was written but not its list entry (a crash in between) gets the
        entry now."""
        for file in (self.completed, self.failed):
            try:
                records = records_in(file.items())
            except CorruptFile:
                continue
            if any(r.same_run(task_id, started_at) for r in records):
                return True
        if any(r.same_run(task_id, started_at) for r in self.pending.records()):
            return True
        logged = self._logged_run(task_id, started_at, now)
        if logged:
            self._add_to_list(logged)
        return logged is not None

    def _logged_run(self, task_id: str, started_at: str | None, now: datetime
                    ) -> Record | None:
        started = parse_iso_or_none(started_at) or now
        first = started.astimezone().date()
        days = {first, first + timedelta(days=1), now.astimezone().date()}
        for day in sorted(days):
            for record in self.history.records(day.isoformat()):
                if record.same_run(task_id, started_at):
                    return record
        return None


def _day(record: Record) -> str:
    ended = record.ended()
    if ended is None:  # build_record always sets one: a record without is a bug
        raise ValueError(f"record {record.id!r} has no completedAt/failedAt")
    return ended.astimezone().date().isoformat()


def _append_bounded(data: dict[str, Any], records: list[dict[str, Any]], limit: int) -> None:
    data["list"] = (data["list"] + records)[-limit:]
