"""Leases with fencing tokens: claim, renew, settle, reap.

Every attempt holds a lease row carrying its token (a fresh uuid). The node renews
it while the agent runs; the reaper takes back only leases that expired (and whose
start grace passed). Settling an attempt deletes the lease *by token* in the same
transaction that requeues or closes the task and moves its job - so whoever lost
the lease (a node frozen past it, a node cut off from the database) changes
nothing: its late result is dropped.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.postgres import db
from pipeline.postgres.tasks import close
from pipeline.stages.archive import build_record
from pipeline.stages.retry import Requeue, next_step
from pipeline.stages.run import running_entry
from pipeline.stages.settle import pause_end

PLACE_FIELDS = ("node", "account")  # where an attempt ran: in its record, not in the queue


@dataclass(frozen=True)
class Claim:
    token: str
    job_id: int
    entry: Attempt


def placed(entry: Attempt, node: str, account: str) -> Attempt:
    """The running entry with where it runs (`node`, `account`: extra keys of the entry,
    so they reach the record untouched)."""
    return replace(entry, task=replace(entry.task, extra={
        **entry.task.extra, "node": node, "account": account}))


def unplaced(task: Task) -> Task:
    """The task without where its last attempt ran (what goes back to the queue)."""
    return replace(task, extra={k: v for k, v in task.extra.items() if k not in PLACE_FIELDS})


def paused_until(conn: Any, account: str) -> datetime | None:
    row = conn.execute("SELECT paused_until FROM claude_runner_accounts WHERE name = %s AND "
                       "paused_until > now()", (account,)).fetchone()
    return row[0] if row else None


def claim(conn: Any, node: str, account: str, lease_seconds: float,
          now: datetime) -> Claim | None:
    """Take the next job and lease its task, in one transaction; None: nothing to run
    (or the account is paused)."""
    with conn.transaction():
        if paused_until(conn, account):
            return None
        job = db.fetch(conn)
        if job is None:
            return None
        job_id, task_id = job[0], job[6]["task_id"]
        row = conn.execute("SELECT task, state FROM claude_runner_tasks WHERE id = %s FOR UPDATE",
                           (task_id,)).fetchone()
        if row is None or row[1] != "queued":  # a stray job: close it, nothing runs
            db.finish(conn, job_id, succeeded=False)
            return None
        entry = placed(running_entry(Task.from_dict(row[0]), now), node, account)
        token = str(uuid.uuid4())
        conn.execute("UPDATE claude_runner_tasks SET state = 'running', updated_at = now() "
                     "WHERE id = %s", (task_id,))
        conn.execute(
            "INSERT INTO claude_runner_leases (task_id, token, job_id, node, account, entry, "
            "expires_at) VALUES (%s, %s, %s, %s, %s, %s, now() + make_interval(secs => %s))",
            (task_id, token, job_id, node, account, db.jsonb(entry.to_dict()), lease_seconds))
        conn.execute("INSERT INTO claude_runner_attempts (token, task_id, node, account) "
                     "VALUES (%s, %s, %s, %s)", (token, task_id, node, account))
        db.notify(conn, "claimed")
        return Claim(token, job_id, entry)


def renew(conn: Any, tokens: list[str], lease_seconds: float) -> tuple[set[str], set[str]]:
    """Extend our leases; returns (tokens still held, tokens whose task is to be cancelled).
    A token not held any more was reaped: its attempt must end (fenced)."""
    rows = conn.execute(
        "UPDATE claude_runner_leases l SET renewed_at = now(), expires_at = now() + "
        "make_interval(secs => %s) FROM claude_runner_tasks t WHERE l.token = ANY(%s::uuid[]) "
        "AND t.id = l.task_id RETURNING l.token::text, t.cancel_requested",
        (lease_seconds, tokens)).fetchall()
    return {row[0] for row in rows}, {row[0] for row in rows if row[1]}


class Settled(StrEnum):
    FENCED = "fenced"        # the lease was not ours any more: nothing changed
    REQUEUED = "requeued"
    CLOSED = "closed"


@dataclass(frozen=True)
class AttemptReport:
    """What the node ships with the end of an attempt."""
    log: str | None = None


def settle(conn: Any, token: str, verdict: Verdict, settings: Settings, now: datetime,
           report: AttemptReport | None = None, expired_only: bool = False) -> Settled:
    """Record how the attempt holding `token` ended - only if it still holds its lease."""
    with conn.transaction():
        row = conn.execute(
            "DELETE FROM claude_runner_leases WHERE token = %s" +
            (" AND expires_at < now()" if expired_only else "") +
            " RETURNING task_id, job_id, entry, account", (token,)).fetchone()
        if row is None:
            return Settled.FENCED
        task_id, job_id, entry, account = row[0], row[1], Attempt.from_dict(row[2]), row[3]
        # lock order everywhere: job, then task (as a claim and a cancel do)
        conn.execute("SELECT id FROM procrastinate_jobs WHERE id = %s FOR UPDATE", (job_id,))
        cancel_requested = conn.execute(
            "SELECT cancel_requested FROM claude_runner_tasks WHERE id = %s FOR UPDATE",
            (task_id,)).fetchone()[0]
        if cancel_requested and verdict.outcome is not Outcome.SUCCESS:
            verdict = Verdict(Outcome.CANCELLED, "cancelled", fields=verdict.fields)
        if verdict.usage_limit:
            _pause(conn, account, pause_end(verdict.usage_limit, now, settings),
                   verdict.usage_limit.message)
        step = next_step(entry, verdict, settings, now)
        _attempt_ended(conn, token, verdict, report)
        if isinstance(step, Requeue):
            task = unplaced(step.task)
            conn.execute("UPDATE claude_runner_tasks SET state = 'queued', task = %s, "
                         "updated_at = now() WHERE id = %s", (db.jsonb(task.to_dict()), task_id))
            db.retry(conn, job_id, task.ready_at(), db.rank(task, requeued=True))
            db.notify(conn, "requeued")
            return Settled.REQUEUED
        record = build_record(entry, verdict.outcome, now, step.attempts, verdict.error,
                              verdict.fields, None)
        db.finish(conn, job_id, succeeded=verdict.outcome is Outcome.SUCCESS)
        close(conn, task_id, entry, record, token)
        return Settled.CLOSED


def _attempt_ended(conn: Any, token: str, verdict: Verdict, report: AttemptReport | None) -> None:
    conn.execute(
        "UPDATE claude_runner_attempts SET ended_at = now(), outcome = %s, counted = %s, "
        "cost_usd = %s, log = %s WHERE token = %s",
        (verdict.outcome.value, verdict.counts, verdict.fields.cost_usd,
         report.log if report else None, token))


def _pause(conn: Any, account: str, until: datetime, reason: str) -> None:
    conn.execute(
        "INSERT INTO claude_runner_accounts (name, paused_until, pause_reason) VALUES "
        "(%s, %s, %s) ON CONFLICT (name) DO UPDATE SET paused_until = EXCLUDED.paused_until, "
        "pause_reason = EXCLUDED.pause_reason, updated_at = now()", (account, until, reason))


def reap(conn: Any, settings: Settings, start_grace: float, now: datetime) -> list[str]:
    """Take back the tasks of leases that expired: a counted, interrupted attempt
    (as a crash is in the files backend). Returns their task ids."""
    rows = conn.execute(
        "SELECT token::text, task_id, node FROM claude_runner_leases WHERE expires_at < now() "
        "AND started_at < now() - make_interval(secs => %s)", (start_grace,)).fetchall()
    reaped = []
    for token, task_id, node in rows:
        verdict = Verdict(Outcome.INTERRUPTED, f"interrupted: node {node} stopped renewing "
                          "its lease", retryable=True)
        if settle(conn, token, verdict, settings, now, expired_only=True) is not Settled.FENCED:
            reaped.append(task_id)
    return reaped
