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

from pipeline.agent.presets import one_line
from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt, AttemptEnd, RunFacts, VerifyOutcome
from pipeline.domain.outcome import Outcome

NO_CHANGES = ("no changes: the agent exited successfully but left no new commit and no "
              "change in the working tree (expectChanges)")
NO_CHANGES_FEEDBACK = ("Your previous attempt ended without changing anything in the "
                       "workspace: no commit and no change in the working tree. This task is "
                       "expected to change it.")


def review(entry: Attempt, end: AttemptEnd, verdict: Verdict) -> Verdict:
    fields = _with_session(entry, verdict.fields)
    if end.git is not None:
        fields = dataclasses.replace(fields, git=end.git)
    verdict = dataclasses.replace(verdict, fields=fields)
    if verdict.outcome is not Outcome.SUCCESS:
        return verdict
    if entry.task.expect_changes is True and end.changed is False:
        return Verdict(Outcome.ERROR, NO_CHANGES, retryable=True, fields=fields,
                       feedback=NO_CHANGES_FEEDBACK)
    if end.verify and end.verify.exit_code != 0:
        return _verify_failed(entry.task.verify or (), end.verify, fields)
    return verdict


def _verify_failed(argv: tuple[str, ...], outcome: VerifyOutcome, fields: RunFacts
                   ) -> Verdict:
    how = "ran out of time" if outcome.timed_out else (
        "could not start" if outcome.exit_code is None else f"exited {outcome.exit_code}")
    command = " ".join(argv)
    tail = outcome.tail.strip()
    error = one_line(f"verify failed: `{command}` {how}: {tail[-200:]}")
    feedback = (f"The runner checked your work with `{command}`, which {how}. The end of its "
                f"output:\n{tail}\nFix what it reports.")
    return Verdict(Outcome.ERROR, error, retryable=True, fields=fields, feedback=feedback)


def _with_session(entry: Attempt, fields: RunFacts) -> RunFacts:
    """The session the attempt ran under, also when the agent printed none; an answer from
    another session than the one planned replaces it in `sessionIds` (a resume that fell
    back to a fresh run is counted)."""
    planned = entry.session_id
    if not planned:
        return fields
    actual = fields.session_id or planned
    if actual == planned:
        return dataclasses.replace(fields, session_id=actual)
    fallbacks = (entry.task.resume_fallbacks or 0) + 1 if entry.task.resume_session \
        else fields.resume_fallbacks
    return dataclasses.replace(fields, session_id=actual, resume_fallbacks=fallbacks,
                               session_ids=(*(entry.task.session_ids or ())[:-1], actual))
