"""`waitingRoles` in tasks/state.json: roles whose `add --role R` met a full queue.

The CLI records each refusal (first and last time, count); when the queue has
room again the daemon takes the list, names the roles in its `queue_recovered`
event (and notification), and clears it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.clock import iso
from pipeline.storage.state import StateFile


def record_refusal(state: StateFile, role: str, now: datetime) -> None:
    def change(data: dict[str, Any]) -> None:
        waiting = data.get("waitingRoles")
        waiting = waiting if isinstance(waiting, dict) else {}
        entry = waiting.get(role) if isinstance(waiting.get(role), dict) else {}
        waiting[role] = {"since": entry.get("since") or iso(now), "lastAt": iso(now),
                         "count": int(entry.get("count") or 0) + 1}
        data["waitingRoles"] = waiting

    state.file.update(change)


def waiting_roles(state: dict[str, Any]) -> dict[str, Any]:
    waiting = state.get("waitingRoles")
    return waiting if isinstance(waiting, dict) else {}


def take_waiting(state: StateFile) -> list[str]:
    """The waiting roles, removed from state.json under its lock."""

    def change(data: dict[str, Any]) -> list[str]:
        roles = sorted(waiting_roles(data))
        data.pop("waitingRoles", None)
        return roles

    return state.file.update(change)
