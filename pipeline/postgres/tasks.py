"""Tasks in the database: admission (idempotent by id), cancel, and what is queued.

Each function is one transaction. A task row's `state` and its procrastinate job
change together: queued <-> job todo, running <-> job doing + a lease, done <->
job finished + one result row.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from pipeline.domain.attempt import Attempt, RunFacts
from pipeline.domain.outcome import Outcome
from pipeline.domain.record import Record
from pipeline.domain.task import Task
from pipeline.postgres import db
from pipeline.stages.archive import build_record


class Admitted(StrEnum):
    NEW = "new"
    READMITTED = "readmitted"      # a finished task sent back (`retry ID`)
    QUEUED = "already-queued"
    RUNNING = "already-running"
    DONE = "already-done"          # finished, result not archived yet: try again later


def admit(conn: Any, task: Task) -> Admitted:
    """Insert a queued task and its job; a known id changes nothing."""
    with conn.transaction():
        row = conn.execute(
            "INSERT INTO claude_runner_tasks (id, task, state) VALUES (%s, %s, 'queued') "
            "ON CONFLICT (id) DO NOTHING RETURNING id",
            (task.id, db.jsonb(task.to_dict()))).fetchone()
        if row is None:
            state = conn.execute("SELECT state FROM claude_runner_tasks WHERE id = %s",
                                 (task.id,)).fetchone()[0]
            return {"queued": Admitted.QUEUED, "running": Admitted.RUNNING}.get(
                state, Admitted.DONE)
        _enqueue(conn, task, requeued=False)
        return Admitted.NEW


def readmit(conn: Any, task: Task) -> bool:
    """A finished task whose result is archived goes back to the queue."""
    with conn.transaction():
        row = conn.execute(
            "UPDATE claude_runner_tasks SET state = 'queued', task = %s, cancel_requested = "
            "false, updated_at = now() WHERE id = %s AND state = 'done' AND NOT EXISTS ("
            "SELECT 1 FROM claude_runner_results WHERE task_id = %s AND archived_at IS NULL) "
            "RETURNING id", (db.jsonb(task.to_dict()), task.id, task.id)).fetchone()
        if row is None:
            return False
        conn.execute("DELETE FROM claude_runner_results WHERE task_id = %s", (task.id,))
        _enqueue(conn, task, requeued=True)
        return True


def _enqueue(conn: Any, task: Task, requeued: bool) -> None:
    job_id = db.defer(conn, task.id, db.rank(task, requeued), task.ready_at())
    conn.execute("UPDATE claude_runner_tasks SET job_id = %s WHERE id = %s",
                 (job_id, task.id))
    db.notify(conn, "queued")


class Cancelled(StrEnum):
    QUEUED = "queued"      # archived as cancelled at once
    RUNNING = "running"    # its node is asked to end it; the node records the end


def cancel(conn: Any, task_id: str, now: datetime) -> Cancelled | None:
    """Cancel a queued or running task; None when it is neither."""
    with conn.transaction():
        # the job row first, as a claim locks it (then the task): never a deadlock
        conn.execute("SELECT j.id FROM procrastinate_jobs j JOIN claude_runner_tasks t ON "
                     "t.job_id = j.id WHERE t.id = %s FOR UPDATE OF j", (task_id,))
        row = conn.execute("SELECT task, state, job_id FROM claude_runner_tasks WHERE id = %s "
                           "FOR UPDATE", (task_id,)).fetchone()
        if row is None or row[1] == "done":
            return None
        task, state, job_id = Task.from_dict(row[0]), row[1], row[2]
        if state == "running":
            conn.execute("UPDATE claude_runner_tasks SET cancel_requested = true WHERE id = %s",
                         (task_id,))
            db.notify(conn, f"cancel {task_id}")
            return Cancelled.RUNNING
        db.cancel_job(conn, job_id)
        record = build_record(task, Outcome.CANCELLED, now, task.attempts_made, "cancelled",
                              RunFacts(), None)
        close(conn, task_id, task, record, token=None)
        return Cancelled.QUEUED


def close(conn: Any, task_id: str, ended: Task | Attempt, record: Record,
          token: str | None) -> None:
    """The task is done: its one result (the first one written wins). `ended`: what the
    task row keeps - the queued task, or the running entry of its last attempt."""
    conn.execute("UPDATE claude_runner_tasks SET state = 'done', task = %s, updated_at = now() "
                 "WHERE id = %s", (db.jsonb(ended.to_dict()), task_id))
    conn.execute("INSERT INTO claude_runner_results (task_id, token, record) VALUES (%s, %s, %s) "
                 "ON CONFLICT (task_id) DO NOTHING", (task_id, token, db.jsonb(record.to_dict())))
    db.notify(conn, "result")


@dataclass(frozen=True)
class Running:
    task_id: str
    node: str
    account: str
    entry: Attempt
    expires_at: datetime


def queued(conn: Any) -> list[Task]:
    """Queued tasks in the order nodes will take them (retries waiting included)."""
    rows = conn.execute(
        "SELECT t.task FROM claude_runner_tasks t JOIN procrastinate_jobs j ON j.id = t.job_id "
        "WHERE t.state = 'queued' ORDER BY j.priority DESC, j.id ASC").fetchall()
    return [Task.from_dict(row[0]) for row in rows]


def running(conn: Any) -> list[Running]:
    rows = conn.execute("SELECT task_id, node, account, entry, expires_at FROM "
                        "claude_runner_leases ORDER BY started_at").fetchall()
    return [Running(task_id, node, account, Attempt.from_dict(entry), expires_at)
            for task_id, node, account, entry, expires_at in rows]


def states(conn: Any, ids: list[str]) -> dict[str, str]:
    rows = conn.execute("SELECT id, state FROM claude_runner_tasks WHERE id = ANY(%s)",
                        (ids,)).fetchall()
    return dict(rows)
