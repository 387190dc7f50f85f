"""After an attempt: pause on a usage limit, then requeue (retry stage) or archive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from pipeline.agent.usage_limit import UsageLimit
from pipeline.agent.verdict import Verdict
from pipeline.domain.settings import Settings
from pipeline.log import logger
from pipeline.stages.archive import Archive
from pipeline.stages.retry import Finish, Requeue, next_step
from pipeline.storage.events import emit
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


@dataclass
class Settler:
    layout: Layout
    settings: Settings
    queue: TaskQueue
    archive: Archive

    def settle(self, entry: dict[str, Any], verdict: Verdict, now: datetime) -> None:
        """Raises CorruptFile / OSError when the queue or archive cannot be written;
        the caller keeps the task in running.json and tries again."""
        if verdict.usage_limit:
            self._pause_for_usage_limit(verdict, now)
        step = next_step(entry, verdict, self.settings, now)
        if isinstance(step, Requeue):
            self._requeue(entry, verdict, step.task)
            return
        assert isinstance(step, Finish)
        self.archive.record_end(entry, verdict.outcome, now, verdict.error, step.attempts,
                                verdict.fields)

    def _requeue(self, entry: dict[str, Any], verdict: Verdict, task: dict[str, Any]) -> None:
        self.queue.push_head(task)
        logger.bind(task=entry["id"]).warning(
            "{}: back to the head of the queue ({}), not before {}", verdict.outcome,
            verdict.error, task.get("notBefore", "now"))
        if verdict.counts:
            emit(self.layout, "task_retry", id=entry["id"], attempt=task["attempts"],
                 outcome=verdict.outcome.value, error=verdict.error,
                 notBefore=task.get("notBefore"))

    def _pause_for_usage_limit(self, verdict: Verdict, now: datetime) -> None:
        limit = verdict.usage_limit
        assert limit is not None
        margin = timedelta(seconds=self.settings.usage_limit_margin)
        default = timedelta(seconds=self.settings.usage_limit_default_pause)
        until = _end_of_reset(limit, now) + margin if limit.resets_at else now + default
        if self.queue.state.paused_until() == until:
            return  # a retried write of the same end: already paused
        self.queue.state.set_pause(until, limit.message)
        logger.warning("usage limit reached ({}); pausing all runs until {}", limit.message,
                       until.isoformat())
        emit(self.layout, "pause_start", until=until.isoformat(), reason=limit.message)


def _end_of_reset(limit: UsageLimit, now: datetime) -> datetime:
    """The CLI prints reset clock times without seconds (18:23:42 reads "6:23pm"): such
    a reset may mean any moment of that minute, so wait until its end - never into the
    past, never restarting the agent into a limit still in force."""
    assert limit.resets_at is not None
    stated = timedelta(minutes=1) if limit.to_the_minute else timedelta(0)
    return max(limit.resets_at + stated, now)
