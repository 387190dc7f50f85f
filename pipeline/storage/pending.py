"""tasks/pending-records.jsonl: terminal records waiting for a damaged list file.

When completed.json or failed.json cannot be parsed, the archive must neither
overwrite it nor stop the pipeline: the record goes here (one JSON line, fsynced),
the history line is written as usual, and the queue moves on. The next archive
write into a list that parses again moves the waiting records into it first.
"""

from __future__ import annotations

from typing import Any

from pipeline.domain.record import Record, records_in
from pipeline.log import logger
from pipeline.storage.jsonfile import (
    CorruptFile,
    JsonFile,
    append_line,
    dumps_lines,
    read_lines,
    write_atomic,
)
from pipeline.storage.layout import Layout


class PendingRecords:
    def __init__(self, layout: Layout) -> None:
        self.path = layout.tasks / "pending-records.jsonl"

    def records(self) -> list[Record]:
        return records_in(read_lines(self.path))

    def park(self, record: Record, error: CorruptFile) -> None:
        """Keep `record` until its list file can be parsed again (raises OSError)."""
        append_line(self.path, record.to_dict())
        logger.bind(task=record.id).error(
            "{} cannot be parsed ({}); left untouched - the record is kept in {} and the "
            "history until the file is fixed", error.path.name, error.reason, self.path.name)

    def flush_into(self, target: JsonFile, limit: int) -> None:
        """Move the records waiting for `target` into it (raises CorruptFile, OSError)."""
        if not self.path.exists():
            return
        waiting = read_lines(self.path)  # every line is kept until it has its place
        mine = [r for r in waiting if _belongs(r, target)]
        if not mine:
            return

        def change(data: dict[str, Any]) -> None:
            present = {_run_key(r) for r in data["list"] if isinstance(r, dict)}
            fresh = [r for r in mine if _run_key(r) not in present]
            data["list"] = (data["list"] + fresh)[-limit:]

        target.update(change)
        rest = [r for r in waiting if not _belongs(r, target)]
        if rest:
            write_atomic(self.path, dumps_lines(rest))
        else:
            self.path.unlink(missing_ok=True)
        logger.info("moved {} waiting record(s) into {}", len(mine), target.path.name)


def _belongs(record: dict[str, Any], target: JsonFile) -> bool:
    success = record.get("status") == "success"
    return success == (target.path.name == "completed.json")


def _run_key(record: dict[str, Any]) -> tuple[Any, ...]:
    return (record.get("id"), record.get("startedAt"), record.get("status"))
