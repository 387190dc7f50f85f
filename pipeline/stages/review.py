"""After the verdict: what the runner itself checks about an attempt (pure).

A success that left no commit and no working-tree change in a git workspace while the
task has `expectChanges`, or whose `verify` command failed, becomes a failed attempt;
its feedback goes into the next (resumed) attempt's prompt. Every record of a git
workspace gets its `git` facts; the session id the attempt ran under is kept even when
the agent printed no result, and a resumed attempt answered by a different session is
counted as a fallback to a fresh run.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from pipeline.agent.presets import one_line
from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt, AttemptEnd, VerifyOutcome
from pipeline.domain.outcome import Outcome

NO_CHANGES = ("no changes: the agent exited successfully but left no new commit and no "
              "change in the working tree (expectChanges)")
NO_CHANGES_FEEDBACK = ("Your previous attempt ended without changing anything in the "
                       "workspace: no commit and no change in the working tree. This task is "
                       "expected to change it.")


def review(entry: Attempt, end: AttemptEnd, verdict: Verdict) -> Verdict:
    fields = {**verdict.fields, **_session_fields(entry, verdict.fields)}
    if end.git is not None:
        fields["git"] = end.git
    verdict = dataclasses.replace(verdict, fields=fields)
    if verdict.outcome is not Outcome.SUCCESS:
        return verdict
    if entry.task.expect_changes is True and end.changed is False:
        return Verdict(Outcome.ERROR, NO_CHANGES, retryable=True, fields=fields,
                       feedback=NO_CHANGES_FEEDBACK)
    if end.verify and end.verify.exit_code != 0:
        return _verify_failed(entry.task.verify or (), end.verify, fields)
    return verdict


def _verify_failed(argv: tuple[str, ...], outcome: VerifyOutcome, fields: dict[str, Any]
                   ) -> Verdict:
    how = "ran out of time" if outcome.timed_out else (
        "could not start" if outcome.exit_code is None else f"exited {outcome.exit_code}")
    command = " ".join(argv)
    tail = outcome.tail.strip()
    error = one_line(f"verify failed: `{command}` {how}: {tail[-200:]}")
    feedback = (f"The runner checked your work with `{command}`, which {how}. The end of its "
                f"output:\n{tail}\nFix what it reports.")
    return Verdict(Outcome.ERROR, error, retryable=True, fields=fields, feedback=feedback)


def _session_fields(entry: Attempt, fields: dict[str, Any]) -> dict[str, Any]:
    """Run fields (JSON keys, as the agent's result gives them) for the session."""
    planned = entry.session_id
    actual = fields.get("sessionId") or planned
    if not planned:
        return {}
    extra: dict[str, Any] = {"sessionId": actual}
    if actual != planned:
        extra["sessionIds"] = [*(entry.task.session_ids or ())[:-1], actual]
        if entry.task.resume_session:
            extra["resumeFallbacks"] = (entry.task.resume_fallbacks or 0) + 1
    return extra
