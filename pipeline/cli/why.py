"""`status --why`: one plain line saying why nothing runs while work is queued.

`explain(facts)` is pure, one readable decision list; `facts_from` gathers the
facts from the status object and the files. The JSON `why` is null when
something runs or nothing waits (then the text line says so instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pipeline.agent.api_errors import classify_api_error
from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.order import run_order
from pipeline.domain.schedule import Schedule, schedules_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.domain.when import is_indefinite
from pipeline.stages.budget import Caps, SpendLog, current_stop
from pipeline.storage.jsonfile import CorruptFile, HistoryLog, JsonFile
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile
from pipeline.storage.waiting import waiting_roles


@dataclass(frozen=True)
class Facts:
    running: str | None = None
    queued: tuple[Task, ...] = ()
    alive: bool = True
    heartbeat_at: str | None = None
    paused_until: str | None = None
    pause_class: str | None = None
    pause_task: str | None = None
    pause_reason: str | None = None
    budget: dict[str, Any] | None = None  # BudgetStop.fields()
    last_skip: tuple[str, str, str] | None = None  # (schedule id, at, reason)


def explain(facts: Facts, now: datetime) -> str | None:
    """Why nothing runs although something waits; None when something runs or nothing
    waits."""
    if facts.running or not facts.queued:
        return None
    if not facts.alive:
        if not facts.heartbeat_at:
            return "daemon not running: it never started on this root (claude-runner run)"
        return f"daemon not alive since {facts.heartbeat_at} (last heartbeat)"
    if facts.paused_until:
        return _paused(facts, now)
    if facts.budget:
        b = facts.budget
        return (f"{b['window']} budget reached (${b['spentUsd']} of ${b['limitUsd']}) "
                f"until {b['until']}")
    ready = run_order(list(facts.queued), now)
    if ready:
        return f"task {ready[0].id} is ready; the daemon starts it at its next look"
    return _retry_wait(facts.queued)


def summary(facts: Facts, now: datetime) -> str:
    """The plain line `status --why` prints in every case."""
    reason = explain(facts, now)
    if reason:
        return f"why: {reason}"
    if facts.running:
        return f"why: running {facts.running}"
    line = "why: nothing waits: the queue is empty"
    if facts.last_skip:
        schedule, at, skip = facts.last_skip
        line += f"; schedule {schedule} skipped its slot at {at} ({skip})"
    return line


def _paused(facts: Facts, now: datetime) -> str:
    """A usage-limit pause names its class (when known) and the task that met it; any
    other pause (e.g. a manual one) says its reason."""
    seen = f" (seen in task {facts.pause_task})" if facts.pause_task else ""
    if facts.pause_class:
        return f"paused by a {facts.pause_class} limit until {facts.paused_until}{seen}"
    reason = f" ({facts.pause_reason})" if facts.pause_reason else ""
    until = parse_iso_or_none(facts.paused_until)
    if until and is_indefinite(until, now):  # `pause` without --until
        return f"paused until `claude-runner resume`{reason}{seen}"
    return f"paused until {facts.paused_until}{reason}{seen}"


def _retry_wait(queued: tuple[Task, ...]) -> str:
    waiting = [(moment, t) for t in queued if (moment := t.ready_at())]
    head = min(waiting, key=lambda pair: pair[0], default=(None, None))[1]
    if head is None:
        return "no queued task is ready"
    error = head.last_error or ""
    if error and classify_api_error(None, error) == "auth":
        return (f"agent unauthenticated since its last attempt (task {head.id}: {error}); "
                f"retry at {head.not_before}")
    return f"head task {head.id} waits for its retry at {head.not_before}"


def facts_from(status: dict[str, Any], state: dict[str, Any], queued: list[Task],
               schedules: list[Schedule], budget: dict[str, Any] | None) -> Facts:
    return Facts(
        running=status["running"],
        queued=tuple(queued),
        alive=status["daemon"]["alive"],
        heartbeat_at=status["daemon"]["heartbeatAt"],
        paused_until=status["pausedUntil"],
        pause_class=state.get("pauseClass") if status["pausedUntil"] else None,
        pause_task=state.get("pauseTask") if status["pausedUntil"] else None,
        pause_reason=status.get("pauseReason"),
        budget=budget,
        last_skip=_last_skip(schedules),
    )


def _last_skip(schedules: list[Schedule]) -> tuple[str, str, str] | None:
    skips = [(s.last_skip.get("at"), s.label, s.last_skip.get("reason"))
             for s in schedules if s.last_skip is not None]
    dated = [(moment, s) for s in skips if (moment := parse_iso_or_none(s[0]))]
    if not dated:
        return None
    at, schedule, reason = max(dated, key=lambda pair: pair[0])[1]
    return schedule, str(at), str(reason)


def attention(layout: Layout, settings: Settings, status: dict[str, Any], now: datetime,
              queued: list[Task]) -> Facts:
    """Add `budget`, `waitingRoles`, `lateSchedules` and `why` to a status object;
    returns the facts (for the `--why` line). `queued`: the queue's tasks, as status read
    them."""
    state = StateFile(layout).read()
    schedules = schedules_in(_items(JsonFile(layout.scheduled, "tasks")))
    caps = Caps.of(settings)
    stop = current_stop(SpendLog(HistoryLog(layout.history)), caps, queued, now)
    if caps.any:
        status["budget"] = {"dailyUsd": settings.daily_usd or None,
                            "windowUsd": settings.budget_usd or None,
                            "perHours": settings.budget_per_hours,
                            "stop": stop.fields() if stop else None}
    status["waitingRoles"] = waiting_roles(state)
    status["lateSchedules"] = state.get("lateSchedules") or {}
    facts = facts_from(status, state, queued, schedules, stop.fields() if stop else None)
    status["why"] = explain(facts, now)
    return facts


def _items(file: JsonFile) -> list[Any]:
    try:
        return file.items()
    except CorruptFile:
        return []


def render_attention(status: dict[str, Any]) -> list[str]:
    """Plain-status lines for the budget, waiting roles, late schedules and `why`."""
    lines = []
    stop = (status.get("budget") or {}).get("stop")
    if stop:
        lines.append(f"budget   {stop['window']} cap reached: ${stop['spentUsd']} of "
                     f"${stop['limitUsd']}, no new attempt until {stop['until']}")
    for role, entry in status["waitingRoles"].items():
        lines.append(f"waiting  role {role} refused {entry.get('count')} time(s) by the full "
                     f"queue since {entry.get('since')}")
    for schedule, entry in status["lateSchedules"].items():
        lines.append(f"late     schedule {schedule}: {entry.get('reason')}")
    if status["why"]:
        lines.append(f"why      {status['why']}")
    return lines
