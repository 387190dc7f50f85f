"""History for the page: filtered, newest first, one page at a time.

The day files (`tasks/history/YYYY-MM-DD.jsonl`, read through `HistoryLog`) are walked
newest day first and only until the page is full, so the first pages cost one or two
files however long the history grows; a date filter reads that day alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.record import Record
from pipeline.domain.task import Task, is_task_object, valid_id
from pipeline.domain.validation import FieldError
from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile, read_bytes
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

PAGE_SIZE = 50
STATUSES = ("", "success", "failed")


@dataclass(frozen=True)
class HistoryQuery:
    status: str = ""
    role: str = ""
    day: str = ""
    text: str = ""
    page: int = 1
    size: int = PAGE_SIZE

    @property
    def filters(self) -> bool:
        return bool(self.status or self.role or self.text)

    def matches(self, record: Record) -> bool:
        if self.status and record.status != self.status:
            return False
        if self.role and record.task.role != self.role:
            return False
        needle = self.text.lower()
        return not needle or any(needle in (text or "").lower() for text in _texts(record))


def _texts(record: Record) -> tuple[str | None, ...]:
    """What the text filter looks in."""
    task = record.task
    return record.id, task.name, task.role, task.prompt, record.error, record.outcome_name


def parse_query(params: dict[str, str]) -> HistoryQuery | list[FieldError]:
    """The query from URL parameters, or the fields that are wrong."""
    errors = []
    status = params.get("status", "")
    if status not in STATUSES:
        errors.append(FieldError(None, "status", "must be success or failed"))
    day = params.get("day", "")
    if day:
        try:
            date.fromisoformat(day)
        except ValueError:
            errors.append(FieldError(None, "day", "expected YYYY-MM-DD"))
    page_text = params.get("page", "1") or "1"
    if not page_text.isdigit() or int(page_text) < 1:
        errors.append(FieldError(None, "page", "must be an integer >= 1"))
    if errors:
        return errors
    return HistoryQuery(status=status, role=params.get("role", "").strip(), day=day,
                        text=params.get("text", "").strip(), page=int(page_text))


@dataclass(frozen=True)
class HistoryPage:
    query: HistoryQuery
    records: list[Record]
    has_next: bool


def history_days(layout: Layout) -> list[str]:
    """The days that have a history file, newest first."""
    return sorted((p.stem for p in layout.history.glob("*.jsonl")), reverse=True)


def page(layout: Layout, query: HistoryQuery) -> HistoryPage:
    log = HistoryLog(layout.history)
    days = [query.day] if query.day else history_days(layout)
    skip, wanted = (query.page - 1) * query.size, query.size + 1
    found: list[Record] = []
    for day in days:
        if not _may_contain(log, day, query.text.lower()):
            continue
        for raw in reversed(log.read(day)):
            if not is_task_object(raw):
                continue  # not a record: never listed
            if skip and not query.filters:  # an earlier page: skipped without being read
                skip -= 1
                continue
            record = Record.from_dict(raw)
            if not query.matches(record):
                continue
            if skip:
                skip -= 1
                continue
            found.append(record)
            if len(found) == wanted:
                return HistoryPage(query, found[:-1], True)
    return HistoryPage(query, found, False)


@dataclass(frozen=True)
class Found:
    where: str  # running | queued | completed | failed | history
    task: Attempt | Task | Record


def find_task(layout: Layout, queue: TaskQueue, task_id: str) -> Found | None:
    """The newest state of a task: running, queued, then the recent files, then history."""
    if not valid_id(task_id):
        return None
    try:
        running = queue.running_attempt()
        if running and running.id == task_id:
            return Found("running", running)
        for task in queue.tasks():
            if task.id == task_id:
                return Found("queued", task)
    except CorruptFile:
        pass
    for which in ("failed", "completed"):
        try:
            record = _newest_with_id(JsonFile(getattr(layout, which), "list").items(), task_id)
        except CorruptFile:
            continue
        if record:
            return Found(which, record)
    return _in_history(layout, task_id)


def _newest_with_id(items: list[Any], task_id: str) -> Record | None:
    """The newest entry with this id, as a record (only that one is read)."""
    for raw in reversed(items):
        if is_task_object(raw) and raw["id"] == task_id:
            return Record.from_dict(raw)
    return None


def _may_contain(log: HistoryLog, day: str, needle: str) -> bool:
    """False when no line of the day's file can match the text filter (checked on the raw
    bytes, before parsing; only for text that JSON writes unescaped)."""
    plain = needle.isascii() and needle.isprintable() and not set(needle) & {'"', "\\"}
    if not needle or not plain:
        return True
    raw = read_bytes(log.path_for(day)) or b""
    return needle.encode() in raw.lower()


def _in_history(layout: Layout, task_id: str) -> Found | None:
    log = HistoryLog(layout.history)
    for day in history_days(layout):
        if not _may_contain(log, day, task_id.lower()):
            continue
        record = _newest_with_id(log.read(day), task_id)
        if record:
            return Found("history", record)
    return None
