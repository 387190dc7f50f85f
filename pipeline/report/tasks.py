"""Task figures of the daily report, computed from one day's history records."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from datetime import tzinfo
from typing import Any

from pipeline.domain.outcome import Outcome
from pipeline.domain.record import Record
from pipeline.report.data import record_end

NO_ROLE = "(none)"
TOP_REASONS = 10
_NUMBER = re.compile(r"\d+")


def _cancelled(record: Record) -> bool:
    return record.outcome is Outcome.CANCELLED


def _failed(record: Record) -> bool:
    """Failed, not cancelled: a cancel is the user's decision, not a failure."""
    return not record.succeeded and not _cancelled(record)


def _ran(record: Record) -> bool:
    """Whether an agent ever ran for it (a task cancelled or refused while queued did not)."""
    return bool(record.started_at)


def _finite(value: float | None) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _outcome(record: Record) -> str:
    return record.outcome_name or "unknown"


def task_figures(records: list[Record], retry_ids: set[str]) -> dict[str, Any]:
    """Counts by status and outcome.

    `retried` counts tasks with attempts > 1 plus tasks named by the day's
    `task_retry` events (some of which may still be waiting for their next attempt).
    `successRate` is completed / (all records - cancelled), 0..1: a cancel is the
    user's decision, not a failure of the agent. None when nothing was judged.
    """
    outcomes = Counter(_outcome(record) for record in records)
    completed = sum(1 for record in records if record.succeeded)
    retried = {record.id for record in records if (record.attempts or 0) > 1}
    retried |= retry_ids
    judged = len(records) - outcomes["cancelled"]
    return {
        "total": len(records),
        "completed": completed,
        "failed": len(records) - completed - outcomes["cancelled"],
        "cancelled": outcomes["cancelled"],
        "timedOut": outcomes["timeout"],
        "retried": len(retried),
        "retriedIds": sorted(retried),
        "successRate": round(completed / judged, 6) if judged else None,
        "outcomes": dict(sorted(outcomes.items())),
    }


def nearest_rank(ordered: list[float], fraction: float) -> float:
    """The nearest-rank percentile of an ascending list: always an observed value."""
    rank = max(1, math.ceil(fraction * len(ordered)))
    return ordered[rank - 1]


def duration_figures(records: list[Record]) -> dict[str, Any]:
    """Median (mean of the two middle values for an even count) and nearest-rank p95
    of durationMs over every record that ran, successes and failures alike (a task
    cancelled or refused before it started would pull the median to 0)."""
    values = sorted(v for r in records
                    if _ran(r) and (v := _finite(r.duration_ms)) is not None)
    if not values:
        return {"count": 0, "medianMs": None, "p95Ms": None, "maxMs": None}
    return {
        "count": len(values),
        "medianMs": statistics.median(values),
        "p95Ms": nearest_rank(values, 0.95),
        "maxMs": values[-1],
    }


def cost_figures(records: list[Record]) -> dict[str, Any]:
    """Total spend and, per role, tasks, failures, cost and the part spent on failed
    attempts (records without a role are grouped under "(none)"). A record's cost is
    `totalCostUsd` (every attempt) when present, else its `costUsd`; on a success,
    what came before its last attempt was spent on failed attempts."""
    roles: dict[str, dict[str, Any]] = {}
    total = wasted = 0.0
    priced = 0
    for record in records:
        entry = roles.setdefault(record.task.role or NO_ROLE, {
            "tasks": 0, "failed": 0, "costUsd": 0.0, "failedAttemptsUsd": 0.0})
        entry["tasks"] += 1
        entry["failed"] += 1 if _failed(record) else 0
        cost, lost = _spend(record)
        if cost is not None:
            entry["costUsd"] += cost
            entry["failedAttemptsUsd"] += lost
            total += cost
            wasted += lost
            priced += 1
    for entry in roles.values():
        entry["costUsd"] = round(entry["costUsd"], 6)
        entry["failedAttemptsUsd"] = round(entry["failedAttemptsUsd"], 6)
    ordered = sorted(roles.items(), key=lambda item: (-item[1]["costUsd"], item[0]))
    figures = {"totalUsd": round(total, 6), "tasksWithCost": priced,
               "failedAttemptsUsd": round(wasted, 6), "byRole": dict(ordered)}
    accounts = by_account(records)
    if accounts:  # the postgres backend's records name the account that ran them
        figures["byAccount"] = accounts
    return figures


def _spend(record: Record) -> tuple[float | None, float]:
    """(what the task cost in all, the part spent on failed attempts)."""
    last = _finite(record.cost_usd)
    total = _finite(record.task.total_cost_usd)
    total = last if total is None else total
    if total is None:
        return None, 0.0
    if not record.succeeded:
        return total, total
    return total, max(0.0, total - (last or 0.0))


def by_account(records: list[Record]) -> dict[str, dict[str, Any]]:
    """Per account (postgres backend): tasks, failures and cost of the last attempt."""
    accounts: dict[str, dict[str, Any]] = {}
    for record in records:
        if record.account is None:
            continue
        entry = accounts.setdefault(record.account, {"tasks": 0, "failed": 0, "costUsd": 0.0})
        entry["tasks"] += 1
        entry["failed"] += 0 if record.succeeded else 1
        entry["costUsd"] = round(entry["costUsd"] + (_finite(record.cost_usd) or 0.0), 6)
    return dict(sorted(accounts.items()))


def reason_key(text: str) -> str:
    """Errors that differ only in numbers (pids, ms, exit codes) group together."""
    return _NUMBER.sub("#", " ".join(text.split()))[:200]


def failure_reasons(records: list[Record]) -> list[dict[str, Any]]:
    """The most frequent failure reasons, each with the ids of its tasks.

    A failure without an error text is grouped under its outcome, e.g. "(timeout)".
    """
    groups: dict[str, dict[str, Any]] = {}
    for record in records:
        if not _failed(record):
            continue
        error = record.error or ""
        outcome = _outcome(record)
        text = " ".join(error.split())
        text = text or f"({outcome})"
        group = groups.setdefault(reason_key(text), {
            "reason": text[:200], "count": 0, "outcomes": Counter(), "taskIds": []})
        group["count"] += 1
        group["outcomes"][outcome] += 1
        group["taskIds"].append(record.id)
    ordered = sorted(groups.values(), key=lambda group: (-group["count"], group["reason"]))
    for group in ordered:
        group["outcomes"] = dict(sorted(group["outcomes"].items()))
    return ordered[:TOP_REASONS]


def hourly(records: list[Record], tz: tzinfo | None) -> dict[str, list[int]]:
    """Tasks and failures per local hour of their end time (24 buckets)."""
    tasks = [0] * 24
    failed = [0] * 24
    for record in records:
        end = record_end(record)
        if end is None:
            continue
        hour = end.astimezone(tz).hour
        tasks[hour] += 1
        failed[hour] += 1 if _failed(record) else 0
    return {"tasks": tasks, "failed": failed}
