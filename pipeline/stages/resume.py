"""The resume stage: does the next attempt of a requeued task continue its session?

Pure: from the attempt that ended (its running entry) and its verdict, the fields the
requeued task carries. An attempt cut short - the runner stopped or restarted, a crash
found at start-up, a usage limit mid-run, an idle hang, a timeout with
`resume_on_timeout`, or a success that failed `expectChanges` / `verify` - is resumed,
at most `max_resumes` times per task; after that, and when the session cannot be
resumed, the next attempt starts fresh (once: a fresh run never answers "no
conversation found").
"""

from __future__ import annotations

from typing import Any

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task


def carry(running: Attempt, verdict: Verdict, settings: Settings) -> dict[str, Any]:
    """Task fields (by attribute) the requeued task carries (empty: a plain fresh retry)."""
    task = running.task
    fields: dict[str, Any] = {"git_baseline": task.git_baseline}  # git facts span the task
    if verdict.feedback:
        fields["resume_feedback"] = verdict.feedback
    if _model_fallback(verdict, running, settings):
        fields["fallback_model"] = settings.fallback_model
    if verdict.resume_failed:
        fields["resume_fallbacks"] = (task.resume_fallbacks or 0) + 1
        return fields
    session = verdict.fields.session_id or running.session_id
    reason = why_resume(verdict, settings)
    if settings.resume and session and reason and not capped(task, settings):
        fields.update(resume_session=session, resume_reason=reason)
    return fields


def capped(task: Task, settings: Settings) -> bool:
    return (task.resumes or 0) >= settings.max_resumes


def why_resume(verdict: Verdict, settings: Settings) -> str | None:
    """Why the attempt's session is worth continuing (None: it is not)."""
    if verdict.usage_limit:
        return "a usage limit was reached"
    if verdict.outcome is Outcome.INTERRUPTED:
        return "the runner was stopped or restarted" if not verdict.counts else \
            "the runner stopped unexpectedly"
    if verdict.outcome is Outcome.TIMEOUT:
        if verdict.error and "idle" in verdict.error:
            return "the run produced no progress for too long and was ended"
        return "the run reached its time limit" if settings.resume_on_timeout else None
    if verdict.feedback:
        return "the runner checked the result and found a problem"
    return None


def _model_fallback(verdict: Verdict, running: Attempt, settings: Settings) -> bool:
    """Same rule as the settle stage's: a model limit, a fallback not yet tried."""
    limit = verdict.usage_limit
    fallback = settings.fallback_model
    return bool(limit and limit.kind == "model" and fallback
                and running.task.fallback_model != fallback)
