"""The daemon's watch over schedule health: a schedule that goes late (or stops
firing) gets one `schedule_late` event - and so one notification - per episode,
and is listed in `lateSchedules` in tasks/state.json for `status`.

The facts come from the files once at start (the last week of events and
history) and then live from the events this process emits, so a check costs no
file reading beyond scheduled.json.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.domain.clock import iso
from pipeline.domain.record import Record
from pipeline.domain.schedule import schedules_in
from pipeline.domain.task import Task
from pipeline.log import logger
from pipeline.scheduling.health import WEEK, lateness, seen_from
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.schedule_facts import SCHEDULE_EVENTS, week_of_files
from pipeline.storage.state import StateFile

_END_EVENTS = {"task_done": "success", "task_failed": "failed"}


class LateWatch:
    def __init__(self, layout: Layout, now: datetime, events: EventLog) -> None:
        self.layout = layout
        self.events_log = events
        self.file = JsonFile(layout.scheduled, "tasks")
        self.state = StateFile(layout)
        self.events, self.records = week_of_files(layout, now)

    def on_event(self, record: dict[str, Any]) -> None:
        """Keep the live facts (an events listener; runs on the emitting thread)."""
        name = record.get("event")
        if name in SCHEDULE_EVENTS:
            self.events.append(record)
        elif name in _END_EVENTS and record.get("scheduledId"):
            at = record.get("at")
            done = name == "task_done"
            task = Task(id=str(record.get("id") or ""), scheduled_id=str(record["scheduledId"]))
            self.records.append(Record(task=task, status=_END_EVENTS[name],
                                       completed_at=at if done else None,
                                       failed_at=None if done else at))

    def check(self, now: datetime) -> None:
        try:
            schedules = [s for s in schedules_in(self.file.items()) if s.written("id")]
        except CorruptFile:
            return
        late = {s.label: reason for s in schedules
                if (reason := lateness(s, seen_from(s.label, self.events, self.records), now))}
        known = self.state.read().get("lateSchedules") or {}
        for schedule_id, reason in late.items():
            if schedule_id not in known:
                logger.warning("schedule {} is late: {}", schedule_id, reason)
                self.events_log.emit(EventKind.SCHEDULE_LATE, scheduleId=schedule_id, reason=reason)
        current = {sid: known.get(sid) or {"since": iso(now), "reason": reason}
                   for sid, reason in late.items()}
        if current != known:
            self.state.update(lateSchedules=current or None)
        self._forget_before(now - WEEK - timedelta(days=1))

    def _forget_before(self, moment: datetime) -> None:
        day = iso(moment)[:10]
        self.events = [e for e in self.events if str(e.get("at") or "") >= day]
        self.records = [r for r in self.records if (r.ended_at or "") >= day]
