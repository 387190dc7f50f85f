"""Which queued tasks are ready, and in what order they run (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.clock import parse_iso_or_none


def _ready(task: Any, now: datetime) -> bool:
    if not isinstance(task, dict) or not task.get("id"):
        return False
    not_before = parse_iso_or_none(task.get("notBefore"))
    return not_before is None or not_before <= now


def run_order(tasks: list[Any], now: datetime) -> list[dict[str, Any]]:
    """Ready tasks in the order they will run: high priority first, each FIFO."""
    ready = [task for task in tasks if _ready(task, now)]
    return [t for t in ready if _high(t)] + [t for t in ready if not _high(t)]


def _high(task: dict[str, Any]) -> bool:
    return task.get("priority") == "high"


def pick(tasks: list[Any], now: datetime) -> dict[str, Any] | None:
    order = run_order(tasks, now)
    return order[0] if order else None


def next_ready_time(tasks: list[Any], now: datetime) -> datetime | None:
    """When the earliest waiting retry becomes ready (to wake the loop then)."""
    times = [parse_iso_or_none(t.get("notBefore")) for t in tasks if isinstance(t, dict)]
    future = [moment for moment in times if moment and moment > now]
    return min(future, default=None)
