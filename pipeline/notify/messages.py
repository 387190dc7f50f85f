"""Which events become a notification, and what it says (pure).

An event record (as written to logs/events.jsonl) is mapped to one of the
notifiable kinds in `NOTIFY_EVENTS`; `Episodes` keeps it to one message per
pause, per full queue and per budget stop, however many retries or tasks meet
them meanwhile.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# kinds that open an episode -> the kind that closes it
_OPENS = {"pause_start": "pause_end", "queue_full": "queue_recovered",
          "budget_reached": "budget_reset"}
_CLOSES = {closing: opening for opening, closing in _OPENS.items()}


@dataclass(frozen=True)
class Message:
    kind: str
    title: str
    body: str


def kind_of(record: dict[str, Any]) -> str | None:
    """The notifiable kind of an event record, or None."""
    event = record.get("event")
    if event == "task_failed":
        return None if record.get("outcome") == "cancelled" else "task_failed"
    if event == "level":
        return "queue_full" if record.get("to") == "full" else None
    if event == "daemon_start":
        return "daemon_crash" if record.get("previous") == "crash" else None
    if event in ("pause_start", "pause_end", "queue_recovered", "budget_reached",
                 "budget_reset", "schedule_late", "report_ready"):
        return str(event)
    return None


@dataclass
class Episodes:
    """Open pauses/outages: a second `pause_start` before its `pause_end` says nothing."""

    open: set[str] = field(default_factory=set)

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> Episodes:
        """The episodes still open when a daemon starts (a pause, a full queue or a
        budget stop that began before a restart ends with one message, not none)."""
        open_now = {"pause_start" if state.get("pausedUntil") else "",
                    "queue_full" if state.get("gate") == "full" else "",
                    "budget_reached" if state.get("budgetUntil") else ""}
        return cls(open_now - {""})

    def admit(self, kind: str) -> bool:
        if kind in _OPENS:
            if kind in self.open:
                return False
            self.open.add(kind)
        elif kind in _CLOSES:
            if _CLOSES[kind] not in self.open:
                return False
            self.open.discard(_CLOSES[kind])
        return True


def compose(kind: str, record: dict[str, Any], place: str) -> Message:
    """The message for an event record of `kind`; `place` names the runner (its root)."""
    title, body = _TEXT[kind](record)
    return Message(kind, f"claude-runner {place}: {title}", body)


def _task_failed(r: dict[str, Any]) -> tuple[str, str]:
    who = f" ({r['role']})" if r.get("role") else ""
    return (f"task {r.get('id')}{who} failed",
            f"outcome {r.get('outcome')}: {r.get('error') or '-'}")


def _pause_start(r: dict[str, Any]) -> tuple[str, str]:
    limit = f"{r['pauseClass']} limit" if r.get("pauseClass") else "usage limit"
    seen = f" (seen in task {r['task']})" if r.get("task") else ""
    return (f"paused by a {limit} until {r.get('until')}",
            f"{r.get('reason') or 'usage limit'}{seen}. Runs resume by themselves.")


def _pause_end(r: dict[str, Any]) -> tuple[str, str]:
    return "pause over, runs resume", f"the pause until {r.get('until')} has ended"


def _queue_full(r: dict[str, Any]) -> tuple[str, str]:
    return (f"queue full ({r.get('length')} queued)",
            "new normal-priority work is refused until the queue is back at the low watermark")


def _queue_recovered(r: dict[str, Any]) -> tuple[str, str]:
    roles = ", ".join(r.get("waitingRoles") or []) or "none"
    deferred = ", ".join(r.get("deferredSchedules") or []) or "none"
    return (f"queue has room again ({r.get('length')} queued)",
            f"waiting roles: {roles}; deferred schedules firing now: {deferred}")


def _budget_reached(r: dict[str, Any]) -> tuple[str, str]:
    return (f"{r.get('window')} budget reached (${r.get('spentUsd')} of ${r.get('limitUsd')})",
            f"no new attempt starts until {r.get('until')}; the running one finishes")


def _budget_reset(r: dict[str, Any]) -> tuple[str, str]:
    return "budget window passed, runs resume", "new attempts start again"


def _daemon_crash(r: dict[str, Any]) -> tuple[str, str]:
    return ("daemon restarted after a crash",
            f"pid {r.get('pid')}; the interrupted task (if any) is back at the head")


def _schedule_late(r: dict[str, Any]) -> tuple[str, str]:
    return f"schedule {r.get('scheduleId')} is late", str(r.get("reason") or "")


def _report_ready(r: dict[str, Any]) -> tuple[str, str]:
    return f"daily report {r.get('date')} ready", str(r.get("path") or "")


_TEXT = {"task_failed": _task_failed, "pause_start": _pause_start, "pause_end": _pause_end,
         "queue_full": _queue_full, "queue_recovered": _queue_recovered,
         "budget_reached": _budget_reached, "budget_reset": _budget_reset,
         "daemon_crash": _daemon_crash, "schedule_late": _schedule_late,
         "report_ready": _report_ready}
