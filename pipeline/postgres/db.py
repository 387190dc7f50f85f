"""Connections and procrastinate's own queries, run inside our transactions.

procrastinate's Python job manager runs each call in its own transaction, so
"finish this job" cannot be made conditional on "I still hold the lease" - the
trap that lets a fenced node finish someone else's run. We call the very same
SQL (procrastinate's `queries.sql`, pinned minor version) on our connection,
in one transaction with the lease check.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from pipeline.postgres.dsn import with_timeouts

if TYPE_CHECKING:
    from pipeline.domain.task import Task

QUEUE = "agents"
MAINTENANCE_QUEUE = "maintenance"
TASK_NAME = "claude_runner.run_task"
CHANNEL = "claude_runner"  # NOTIFY after every change the head or nodes should see soon


def connect(dsn: str, name: str = "claude-runner") -> Any:
    """An autocommit connection (each `with conn.transaction()` is one transaction)."""
    import psycopg

    return psycopg.connect(with_timeouts(dsn, name), autocommit=True)


def query(name: str) -> str:
    from procrastinate.sql import queries

    return queries[name]


def rank(task: Task, requeued: bool) -> int:
    """procrastinate runs higher priorities first, then older jobs: high before normal,
    and a task sent back (retry, interruption) ahead of fresh ones of its class."""
    return (2 if task.high else 0) + (1 if requeued else 0)


def jsonb(value: Any) -> Any:
    from psycopg.types.json import Jsonb

    return Jsonb(value)


def defer(conn: Any, task_id: str, priority: int, not_before: datetime | None) -> int:
    """A new job for the task (the queueing lock keeps one waiting job per task)."""
    row = conn.execute(
        "SELECT unnest(procrastinate_defer_jobs_v1(ARRAY[ROW(%s, %s, %s, NULL, %s, %s, %s)]"
        "::procrastinate_job_to_defer_v1[]))",
        (QUEUE, TASK_NAME, priority, task_id, jsonb({"task_id": task_id}), not_before),
    ).fetchone()
    return int(row[0])


def fetch(conn: Any) -> Any:
    """The next job of the agents queue, now 'doing' (locked until commit), or None."""
    row = conn.execute(query("fetch_job"), {"queues": [QUEUE], "worker_id": None}).fetchone()
    return row if row and row[0] is not None else None


def finish(conn: Any, job_id: int, succeeded: bool) -> None:
    conn.execute(query("finish_job"), {"job_id": job_id,
                                       "status": "succeeded" if succeeded else "failed",
                                       "delete_job": False})


def retry(conn: Any, job_id: int, at: datetime | None, priority: int) -> None:
    conn.execute(query("retry_job"), {"job_id": job_id, "retry_at": at,
                                      "new_priority": priority, "new_queue_name": None,
                                      "new_lock": None})


def cancel_job(conn: Any, job_id: int) -> None:
    conn.execute(query("cancel_job"), {"job_id": job_id, "abort": False, "delete_job": False})


def notify(conn: Any, what: str) -> None:
    conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, what))
