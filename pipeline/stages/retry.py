"""The retry stage: after an attempt, does the task go back to the queue or to
the archive? Pure: takes the running entry and the verdict, returns a step."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import iso
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, without_notes
from pipeline.stages.resume import carry

MAX_BACKOFF = 86_400.0  # seconds: a retry never waits longer than a day


def backoff(retry_delay: float, retry_number: int) -> float:
    """Seconds before retry n (1-based): retry_delay * 2^(n-1), at most MAX_BACKOFF (a
    huge attempt count must not overflow the float or the timedelta)."""
    exponent = min(max(retry_number - 1, 0), 64)
    return min(retry_delay * 2.0 ** exponent, MAX_BACKOFF)


@dataclass(frozen=True)
class Requeue:
    task: Task


@dataclass(frozen=True)
class Finish:
    attempts: int
    outcome: Outcome | None = None  # set when something other than the verdict ended it
    error: str | None = None


def next_step(running: Attempt, verdict: Verdict, settings: Settings,
              now: datetime) -> Requeue | Finish:
    attempts_before = running.task.attempts_made
    if not verdict.counts:
        return _requeue(running, verdict, settings, attempts_before, None)
    attempts = attempts_before + 1
    retries_made = attempts - 1
    if verdict.retryable and retries_made < running.task.max_retries_or(settings):
        over = over_budget(running, settings)
        if over:
            return Finish(attempts, Outcome.BUDGET, over)
        not_before = None  # a crash is not the task's fault: run it again at once
        if verdict.outcome is not Outcome.INTERRUPTED:
            not_before = now + timedelta(seconds=backoff(settings.retry_delay, attempts))
        return _requeue(running, verdict, settings, attempts, not_before)
    return Finish(attempts)


def over_budget(running: Attempt, settings: Settings) -> str | None:
    """Why no further attempt may start: the task's spend has passed its cap."""
    cap = running.task.max_cost(settings)
    spent = running.task.total_cost_usd
    if cap is None or spent is None or spent <= cap:
        return None
    return f"budget: spent ${spent:.4f}, over maxTaskCostUsd ${cap:g}; not retried"


def _requeue(running: Attempt, verdict: Verdict, settings: Settings, attempts: int,
             not_before: datetime | None) -> Requeue:
    task = replace(without_notes(running.task), attempts=attempts,
                   not_before=iso(not_before) if not_before else None,
                   last_error=verdict.error or None)
    return Requeue(replace(task, **carry(running, verdict, settings)))
