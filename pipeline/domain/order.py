"""Which queued tasks are ready, and in what order they run (pure)."""

from __future__ import annotations

from datetime import datetime

from pipeline.domain.task import Task


def _ready(task: Task, now: datetime) -> bool:
    not_before = task.ready_at()
    return not_before is None or not_before <= now


def run_order(tasks: list[Task], now: datetime) -> list[Task]:
    """Ready tasks in the order they will run: high priority first, each FIFO."""
    ready = [task for task in tasks if _ready(task, now)]
    return [t for t in ready if t.high] + [t for t in ready if not t.high]


def pick(tasks: list[Task], now: datetime) -> Task | None:
    order = run_order(tasks, now)
    return order[0] if order else None


def next_ready_time(tasks: list[Task], now: datetime) -> datetime | None:
    """When the earliest waiting retry becomes ready (to wake the loop then)."""
    future = [moment for task in tasks if (moment := task.ready_at()) and moment > now]
    return min(future, default=None)
