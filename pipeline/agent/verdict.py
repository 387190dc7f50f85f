"""What an attempt's end means: one pure function from the facts of the run
(exit code, timeout, who stopped it, what it printed) to an outcome."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pipeline.agent.api_errors import classify_api_error
from pipeline.agent.presets import last_lines, one_line, parse_result, result_fields
from pipeline.agent.session import resume_failed, with_stream_denials
from pipeline.agent.usage_limit import UsageLimit, detect_usage_limit
from pipeline.domain.attempt import AttemptEnd, RunFacts, StopReason
from pipeline.domain.outcome import Outcome

FINAL_SUBTYPES = {"error_max_turns", "error_max_budget_usd"}


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    error: str | None = None
    retryable: bool = False
    counts: bool = True                  # False: the attempt is not counted (pause, shutdown)
    usage_limit: UsageLimit | None = None
    fields: RunFacts = field(default_factory=RunFacts)
    resume_failed: bool = False          # `--resume` of a session the agent does not have
    feedback: str | None = None          # the runner's note for the next attempt (verify)


def judge(end: AttemptEnd, now: datetime, fail_on_denials: bool = True,
          claude_json: bool = True) -> Verdict:
    """`claude_json`: the agent prints Claude Code's JSON result; other agents are
    judged by exit code, their last lines standing in for the result."""
    result = parse_result(end.output) if claude_json else None
    reported = result_fields(result) if claude_json else {"result": last_lines(end.output)}
    if claude_json:
        reported = with_stream_denials(reported, end.output)
    fields = dataclasses.replace(RunFacts.from_dict(reported), exit_code=end.exit_code)
    if end.spawn_error:
        return Verdict(Outcome.ERROR, end.spawn_error, fields=fields)
    if end.stop_reason == StopReason.SHUTDOWN:
        return Verdict(Outcome.INTERRUPTED, "runner stopped during the attempt",
                       retryable=True, counts=False, fields=fields)
    if end.stop_reason == StopReason.CANCEL:
        return Verdict(Outcome.CANCELLED, "cancelled", fields=fields)
    if end.timed_out:
        reason = "idle: no progress for too long (idle_timeout)" if end.idle else "timed out"
        return Verdict(Outcome.TIMEOUT, reason, retryable=True, fields=fields)
    return _judge_exit(end, result, fields, now, fail_on_denials, claude_json)


def _judge_exit(end: AttemptEnd, result: dict[str, Any] | None, fields: RunFacts,
                now: datetime, fail_on_denials: bool, claude_json: bool) -> Verdict:
    if claude_json:
        succeeded = end.exit_code == 0 and result is not None and not result.get("is_error")
    else:
        succeeded = end.exit_code == 0
    if succeeded:
        if fail_on_denials and fields.permission_denials:
            tools = ", ".join(fields.denied_tools or ())
            error = (f"the agent was denied {fields.permission_denials} tool use(s) ({tools}); "
                     "set autoApprove or allowedTools")
            return Verdict(Outcome.ERROR, error, fields=fields)
        return Verdict(Outcome.SUCCESS, fields=fields)
    limit = detect_usage_limit(end.output, now)
    if limit:
        return Verdict(Outcome.ERROR, f"usage limit: {limit.message}", retryable=True,
                       counts=False, usage_limit=limit, fields=fields)
    return _failure(end, result, fields, claude_json)


def _failure(end: AttemptEnd, result: dict[str, Any] | None, fields: RunFacts,
             claude_json: bool) -> Verdict:
    error = _reason(end, result, claude_json)
    if claude_json and resume_failed(end.output):
        return Verdict(Outcome.ERROR, "the session could not be resumed; starting afresh",
                       retryable=True, counts=False, resume_failed=True, fields=fields)
    if result and result.get("subtype") in FINAL_SUBTYPES:
        return Verdict(Outcome.ERROR, error, fields=fields)
    if classify_api_error(result, end.output) == "auth":
        hint = " (log in with `claude login` or set ANTHROPIC_API_KEY for the runner)"
        return Verdict(Outcome.ERROR, error + hint, fields=fields)
    return Verdict(Outcome.ERROR, error, retryable=True, fields=fields)


def _reason(end: AttemptEnd, result: dict[str, Any] | None, claude_json: bool) -> str:
    if end.exit_code == 0 and result is None and claude_json:
        return "exited 0 without a result (the agent was interrupted or printed no JSON)"
    if result:
        return one_line(_result_reason(result) or f"exit code {end.exit_code}")
    tail = last_lines(end.output, 3)
    return one_line(f"exit code {end.exit_code}: {tail}" if tail else f"exit code {end.exit_code}")


def _result_reason(result: dict[str, Any]) -> str:
    """Claude's own words: its result text, else its errors list, else the subtype;
    prefixed with the API status unless the text already names it."""
    errors = result.get("errors")
    listed = "; ".join(map(str, errors)) if isinstance(errors, list) else errors
    text = str(result.get("result") or listed or result.get("subtype") or "")
    status = result.get("api_error_status")
    if status and text and "API Error" not in text:
        return f"API error {status}: {text}"
    return text


def looks_interrupted(end: AttemptEnd, claude_json: bool) -> bool:
    """Killed by SIGINT/SIGTERM, or what Claude Code does on SIGINT: exit 0 in silence,
    or a result whose terminal_reason says it was aborted (aborted_streaming,
    aborted_tools) with whatever exit code."""
    if end.exit_code in (-2, -15, 130, 143):
        return True
    if not claude_json:
        return False
    result = parse_result(end.output)
    if result is None:
        return end.exit_code == 0
    return str(result.get("terminal_reason") or "").startswith("aborted")
