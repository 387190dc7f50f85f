"""The queue has room again: tell who waited (the seed's coordination flow).

Roles refused by a full queue (`waitingRoles` in state.json) and schedules that
deferred a slot (`whenFull: "defer"`, see scheduling/plan.py) are named in one
`queue_recovered` event; the scheduler fires the deferred slots on the same tick.
"""

from __future__ import annotations

from typing import Any

from pipeline.domain.schedule import schedules_in
from pipeline.log import logger
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile
from pipeline.storage.waiting import take_waiting


def deferred_schedules(layout: Layout) -> list[str]:
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except CorruptFile:
        return []
    return [s.label for s in schedules_in(schedules) if s.deferred_slot]


def recovered(layout: Layout, state: StateFile, length: int, events: EventLog) -> dict[str, Any]:
    roles = take_waiting(state)
    deferred = deferred_schedules(layout)
    logger.info("queue has room again ({} queued); waiting roles: {}; deferred schedules: {}",
                length, ", ".join(roles) or "none", ", ".join(deferred) or "none")
    fields = {"length": length, "waitingRoles": roles, "deferredSchedules": deferred}
    events.emit(EventKind.QUEUE_RECOVERED, **fields)
    return fields
