"""After an attempt: pause on a usage limit, then requeue (retry stage) or archive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pipeline.agent.usage_limit import UsageLimit
from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, flattened
from pipeline.log import logger
from pipeline.stages.archive import Archive
from pipeline.stages.budget import with_attempt_cost
from pipeline.stages.retry import Finish, Requeue, next_step
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


@dataclass
class Settler:
    layout: Layout
    settings: Settings
    queue: TaskQueue
    archive: Archive
    events: EventLog

    def park(self, task: Task, error: Exception, now: datetime) -> None:
        """A queued task that cannot even be started goes to failed.json (outcome `error`,
        the exception as its reason) so the tasks behind it can run."""
        reason = f"cannot be started: {type(error).__name__}: {error}"
        logger.bind(task=task.id).error("{}; moved to failed.json", reason)
        self.queue.remove(task.id, now, lambda queued: self.archive.record_end(
            flattened(queued), Outcome.ERROR, now, reason, queued.attempts_made))

    def settle(self, entry: Attempt, verdict: Verdict, now: datetime) -> None:
        """Raises CorruptFile / OSError when the queue or archive cannot be written;
        the caller keeps the task in running.json and tries again."""
        if verdict.usage_limit and not self._falls_back(verdict.usage_limit, entry):
            self._pause_for_usage_limit(verdict, now, entry.id)
        entry = with_attempt_cost(entry, verdict.fields)
        step = next_step(entry, verdict, self.settings, now)
        if isinstance(step, Requeue):
            self._requeue(entry, verdict, step.task)
            return
        assert isinstance(step, Finish)
        self.archive.record_end(entry, step.outcome or verdict.outcome, now,
                                step.error or verdict.error, step.attempts, verdict.fields)

    def _requeue(self, entry: Attempt, verdict: Verdict, task: Task) -> None:
        self.queue.push_head(task)
        logger.bind(task=entry.id).warning(
            "{}: back to the head of the queue ({}), not before {}", verdict.outcome,
            verdict.error, task.not_before or "now")
        if verdict.counts:
            self.events.emit(EventKind.TASK_RETRY, id=entry.id, attempt=task.attempts,
                             outcome=verdict.outcome.value, error=verdict.error,
                             notBefore=task.not_before)

    def _falls_back(self, limit: UsageLimit, entry: Attempt) -> bool:
        """The per-class policy: a model's own limit with `fallback_model` set runs the
        task again at once on that model instead of pausing (once: a limit met on the
        fallback model itself pauses)."""
        fallback = self.settings.fallback_model
        if limit.kind != "model" or not fallback or entry.task.fallback_model == fallback:
            return False
        logger.bind(task=entry.id).warning("{} ({}): running the task on {} instead of "
                                              "waiting", limit.message, limit.kind, fallback)
        self.events.emit(EventKind.MODEL_FALLBACK, id=entry.id, model=fallback,
                         reason=limit.message)
        return True

    def _pause_for_usage_limit(self, verdict: Verdict, now: datetime, task_id: str) -> None:
        limit = verdict.usage_limit
        assert limit is not None
        until = pause_end(limit, now, self.settings)
        current = self.queue.state.paused_until()
        if current == until:
            return  # a retried write of the same end: already paused
        if current is not None and current > until and self.queue.state.read().get(
                "pausedByHand"):
            return  # a longer pause by hand holds
        self.queue.state.set_pause(until, limit.message, limit.kind)
        logger.warning("usage limit reached ({}, {}); pausing all runs until {}", limit.message,
                       limit.kind, until.isoformat())
        self.queue.state.update(pauseTask=task_id)
        self.events.emit(EventKind.PAUSE_START, until=until.isoformat(), reason=limit.message,
                         task=task_id, pauseClass=limit.kind)


def pause_end(limit: UsageLimit, now: datetime, settings: Settings) -> datetime:
    """Until when a usage limit pauses runs: its reset plus the margin, else the default."""
    if not limit.resets_at:
        return now + timedelta(seconds=settings.usage_limit_default_pause)
    return _end_of_reset(limit, now) + timedelta(seconds=settings.usage_limit_margin)


def _end_of_reset(limit: UsageLimit, now: datetime) -> datetime:
    """The CLI prints reset clock times without seconds (18:23:42 reads "6:23pm"): such
    a reset may mean any moment of that minute, so wait until its end - never into the
    past, never restarting the agent into a limit still in force."""
    assert limit.resets_at is not None
    stated = timedelta(minutes=1) if limit.to_the_minute else timedelta(0)
    return max(limit.resets_at + stated, now)
