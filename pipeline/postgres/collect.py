"""The head takes the results nodes recorded into the files: completed.json /
failed.json / history (through the archive stage, hooks included) and each
attempt's output into `logs/tasks/<id>.log`.

Exactly once: a result is marked archived in the database after its record is
written. If the head dies in between, the record is found in completed/failed.json
at the next start (the first pass checks every result it takes) and only marked.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from pipeline.domain.record import Record
from pipeline.domain.task import valid_id
from pipeline.stages.archive import Archive
from pipeline.storage.jsonfile import append_text
from pipeline.storage.layout import Layout

BATCH = 200


class ResultCollector:
    def __init__(self, layout: Layout, archive: Archive) -> None:
        self.layout = layout
        self.archive = archive
        self.checked_start = False
        self.unsure: set[str] = set()  # written, maybe not marked (a write failed midway)

    def collect(self, conn: Any, now: datetime) -> int:
        self._copy_logs(conn)
        rows = conn.execute("SELECT task_id, record FROM claude_runner_results WHERE "
                            "archived_at IS NULL ORDER BY created_at LIMIT %s",
                            (BATCH,)).fetchall()
        for task_id, record in rows:
            self._archive(task_id, Record.from_dict(record), now)
            conn.execute("UPDATE claude_runner_results SET archived_at = now() "
                         "WHERE task_id = %s", (task_id,))
            self.unsure.discard(task_id)
        self.checked_start = True
        return len(rows)

    def _archive(self, task_id: str, record: Record, now: datetime) -> None:
        maybe_written = not self.checked_start or task_id in self.unsure
        if maybe_written and self.archive.holds_run(task_id, record.started_at, now):
            return
        self.unsure.add(task_id)
        log = self.layout.task_log(task_id) if valid_id(task_id) else None
        self.archive.publish(replace(record, log_file=str(log) if log and log.exists() else None))

    def _copy_logs(self, conn: Any) -> None:
        rows = conn.execute("SELECT token, task_id, log FROM claude_runner_attempts WHERE NOT "
                            "log_copied AND ended_at IS NOT NULL ORDER BY ended_at").fetchall()
        for token, task_id, log in rows:
            if log and valid_id(task_id):
                append_text(self.layout.task_log(task_id), log.rstrip("\n"))
            conn.execute("UPDATE claude_runner_attempts SET log_copied = true WHERE token = %s",
                         (token,))
