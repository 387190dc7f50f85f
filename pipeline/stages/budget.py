"""Spend budgets: a task's cumulative cost, and the daily cap on new attempts.

* `with_attempt_cost` adds an attempt's `costUsd` to the task's `totalCostUsd`
  (carried in the queue between attempts, so it survives restarts and ends up
  in the record); the retry stage stops retrying once it passes the task's cap.
* `stop_for` sums the spend of a window: the `totalCostUsd` of every record
  archived in it (tasks/history, so it survives restarts) plus what tasks still
  waiting for a retry have spent. `[budget] daily_usd` caps the local calendar
  day (the stop lasts until midnight); `[budget] usd` + `per_hours` cap a rolling
  window (the stop lasts until enough old spend has left it). No new attempt
  starts meanwhile; the running one finishes. A `priority: "high"` task passes
  only with `priority_bypass = true`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from typing import Any

from pipeline.domain.attempt import Attempt, RunFacts
from pipeline.domain.record import Record
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.log import logger
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import HistoryLog, signature
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile


def cost_of(record: Record) -> float:
    """What a record's task has spent: `totalCostUsd`, else its one `costUsd`."""
    total = record.task.total_cost_usd
    return float(total if total is not None else record.cost_usd or 0)


def with_attempt_cost(entry: Attempt, fields: RunFacts) -> Attempt:
    """The running entry with this attempt's cost (what the agent reported) added to the
    task's `totalCostUsd`."""
    cost = fields.cost_usd
    if cost is None:
        return entry
    spent = round(entry.task.spent() + cost, 6)
    return replace(entry, task=replace(entry.task, total_cost_usd=spent))


def next_midnight(now: datetime) -> datetime:
    local = now.astimezone()
    return datetime.combine(local.date() + timedelta(days=1), time(0), local.tzinfo)


@dataclass(frozen=True)
class BudgetStop:
    spent: float
    limit: float
    until: datetime
    window: str  # "daily" or "5h"

    def fields(self) -> dict[str, Any]:
        return {"window": self.window, "spentUsd": round(self.spent, 4),
                "limitUsd": self.limit, "until": self.until.isoformat()}


@dataclass(frozen=True)
class Caps:
    daily_usd: float = 0.0      # 0 = none
    window_usd: float = 0.0     # 0 = none
    window_hours: float = 0.0

    @classmethod
    def of(cls, settings: Settings) -> Caps:
        return cls(settings.daily_usd, settings.budget_usd, settings.budget_per_hours)

    @property
    def any(self) -> bool:
        return self.daily_usd > 0 or (self.window_usd > 0 and self.window_hours > 0)


Spend = tuple[datetime, float]  # (when a record ended, what it cost)


def stop_for(spends: list[Spend], waiting: float, now: datetime, caps: Caps
             ) -> BudgetStop | None:
    """The stop in force at `now` (pure): today's spend against `daily_usd`, the last
    `window_hours` against `window_usd`; `waiting` is what tasks still waiting for
    a retry have spent (counted in both)."""
    if caps.daily_usd > 0:
        today = now.astimezone().date()
        spent = waiting + sum(c for end, c in spends if end.astimezone().date() == today)
        if spent >= caps.daily_usd:
            return BudgetStop(spent, caps.daily_usd, next_midnight(now), "daily")
    if caps.window_usd > 0 and caps.window_hours > 0:
        return _window_stop(spends, waiting, now, caps)
    return None


def _window_stop(spends: list[Spend], waiting: float, now: datetime, caps: Caps
                 ) -> BudgetStop | None:
    window = timedelta(hours=caps.window_hours)
    inside = sorted((end, c) for end, c in spends if now - window < end <= now)
    spent = waiting + sum(c for _, c in inside)
    if spent < caps.window_usd:
        return None
    remaining, until = spent, now + window
    for end, cost in inside:  # the stop lifts once enough old spend has left the window
        remaining -= cost
        if remaining < caps.window_usd:
            until = end + window
            break
    return BudgetStop(spent, caps.window_usd, until, f"{caps.window_hours:g}h")


def startable(queued: list[Task], stop: BudgetStop | None, bypass: bool) -> list[Task]:
    """The tasks that may start under `stop`: all without one, only high ones with a bypass."""
    if stop is None:
        return queued
    return [task for task in queued if bypass and task.high]


class SpendLog:
    """What archived records cost and when they ended, from tasks/history (so it
    survives restarts); a day's file is parsed again only when it changed."""

    def __init__(self, history: HistoryLog) -> None:
        self.history = history
        self.days: dict[str, tuple[Any, list[Spend]]] = {}

    def spends(self, now: datetime, hours: float) -> list[Spend]:
        local = now.astimezone()
        count = max(1, int(hours // 24) + 2)
        result: list[Spend] = []
        for back in range(count):
            result += self._day((local.date() - timedelta(days=back)).isoformat())
        return result

    def _day(self, day: str) -> list[Spend]:
        key = signature(self.history.path_for(day))
        cached = self.days.get(day)
        if cached is None or cached[0] != key:
            spends = [(end, cost_of(r)) for r in self.history.records(day)
                      if (end := r.ended()) and cost_of(r)]
            self.days[day] = cached = (key, spends)
        return cached[1]


def waiting_spend(queued: list[Task]) -> float:
    return sum(task.spent() for task in queued)


def current_stop(log: SpendLog, caps: Caps, queued: list[Task], now: datetime
                 ) -> BudgetStop | None:
    if not caps.any:
        return None
    spends = log.spends(now, max(24.0, caps.window_hours))
    return stop_for(spends, waiting_spend(queued), now, caps)


class BudgetGate:
    """The loop's side of the daily budget: which tasks may start, and one
    `budget_reached` / `budget_reset` event per stop."""

    def __init__(self, layout: Layout, settings: Settings, events: EventLog) -> None:
        self.layout = layout
        self.events = events
        self.log = SpendLog(HistoryLog(layout.history))
        self.caps = Caps.of(settings)
        self.bypass = settings.priority_bypass
        self.state = StateFile(layout)
        self.stopped: BudgetStop | None = None
        self.announced = self.state.read().get("budgetUntil")  # a stop told before a restart

    def startable(self, queued: list[Task], now: datetime
                  ) -> tuple[list[Task], datetime | None]:
        """(tasks that may start now, when to look again)."""
        stop = current_stop(self.log, self.caps, queued, now)
        if stop and not self.stopped and self.announced != stop.until.isoformat():
            self.state.update(budgetUntil=stop.until.isoformat())
            logger.warning("{} budget reached (${:.4f} of ${:g}); no new attempt until {}",
                           stop.window, stop.spent, stop.limit, stop.until.isoformat())
            self.events.emit(EventKind.BUDGET_REACHED, **stop.fields())
        elif (self.stopped or self.announced) and not stop:
            self.state.update(budgetUntil=None)
            logger.info("budget window passed: runs resume")
            self.events.emit(EventKind.BUDGET_RESET)
        self.stopped, self.announced = stop, stop.until.isoformat() if stop else None
        return startable(queued, stop, self.bypass), stop.until if stop else None
