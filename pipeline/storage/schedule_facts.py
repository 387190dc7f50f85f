"""The files' record of what schedules did: their fired/skipped events and the
history records of their copies, over the last week (for schedule health)."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.domain.clock import iso
from pipeline.domain.record import Record
from pipeline.storage.jsonfile import HistoryLog, read_lines
from pipeline.storage.layout import Layout

WEEK_AND_A_DAY = timedelta(days=8)
SCHEDULE_EVENTS = {"schedule_fired", "schedule_skipped"}


def week_of_files(layout: Layout, now: datetime) -> tuple[list[dict], list[Record]]:
    """(schedule events, history records of scheduled copies) of the last week."""
    start = now - WEEK_AND_A_DAY
    events = [e for e in read_lines(layout.events) if e.get("event") in SCHEDULE_EVENTS
              and str(e.get("at") or "") >= iso(start)[:10]]
    history = HistoryLog(layout.history)
    records = []
    for back in range(9):
        day = (now.astimezone().date() - timedelta(days=back)).isoformat()
        records += [r for r in history.records(day) if r.task.scheduled_id]
    return events, records
