"""The database schema: procrastinate's own, plus claude-runner's tables.

`apply` is idempotent (the head runs it at start); `problems` says what is missing
or from another version, for `doctor` and for nodes waiting on the head.
"""

from __future__ import annotations

from typing import Any

SCHEMA_VERSION = "1"
PROCRASTINATE_SERIES = "3.10"  # the minor version this code was checked against (pyproject pins it)

TABLES = """
CREATE TABLE IF NOT EXISTS claude_runner_meta (
    key text PRIMARY KEY,
    value text NOT NULL
);
CREATE TABLE IF NOT EXISTS claude_runner_tasks (
    id text PRIMARY KEY,
    task jsonb NOT NULL,                 -- the task as it waits (attempts, notBefore, lastError)
    state text NOT NULL CHECK (state IN ('queued', 'running', 'done')),
    job_id bigint,                       -- the procrastinate job that carries it
    cancel_requested boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS claude_runner_tasks_state ON claude_runner_tasks (state);
CREATE TABLE IF NOT EXISTS claude_runner_leases (
    task_id text PRIMARY KEY REFERENCES claude_runner_tasks (id),
    token uuid NOT NULL UNIQUE,          -- the fencing token: one per attempt
    job_id bigint NOT NULL,
    node text NOT NULL,
    account text NOT NULL,
    entry jsonb NOT NULL,                -- the running entry (task + startedAt, attempt)
    started_at timestamptz NOT NULL DEFAULT now(),
    renewed_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);
CREATE TABLE IF NOT EXISTS claude_runner_results (
    task_id text PRIMARY KEY,            -- one result per task: ON CONFLICT DO NOTHING
    token uuid,
    record jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    archived_at timestamptz
);
CREATE INDEX IF NOT EXISTS claude_runner_results_unarchived ON claude_runner_results (created_at)
    WHERE archived_at IS NULL;
CREATE TABLE IF NOT EXISTS claude_runner_attempts (
    token uuid PRIMARY KEY,
    task_id text NOT NULL,
    node text NOT NULL,
    account text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    ended_at timestamptz,
    outcome text,
    counted boolean,
    cost_usd double precision,
    log text,                            -- what the attempt printed, shipped to the head
    log_copied boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS claude_runner_attempts_uncopied ON claude_runner_attempts (ended_at)
    WHERE NOT log_copied AND ended_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS claude_runner_nodes (
    name text PRIMARY KEY,
    account text NOT NULL,
    host text NOT NULL,
    pid integer NOT NULL,
    slots integer NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    seen_at timestamptz NOT NULL DEFAULT now(),
    stopped_at timestamptz
);
CREATE TABLE IF NOT EXISTS claude_runner_accounts (
    name text PRIMARY KEY,
    paused_until timestamptz,
    pause_reason text,
    updated_at timestamptz NOT NULL DEFAULT now()
);
"""

# what the code calls; doctor checks that each exists with this signature
PROCRASTINATE_FUNCTIONS = (
    "procrastinate_defer_jobs_v1(procrastinate_job_to_defer_v1[])",
    "procrastinate_fetch_job_v2(character varying[], bigint)",
    "procrastinate_finish_job_v1(bigint, procrastinate_job_status, boolean)",
    "procrastinate_retry_job_v2(bigint, timestamp with time zone, integer, character varying, "
    "character varying)",
    "procrastinate_cancel_job_v1(bigint, boolean, boolean)",
)
OWN_TABLES = ("claude_runner_meta", "claude_runner_tasks", "claude_runner_leases",
              "claude_runner_results", "claude_runner_attempts", "claude_runner_nodes",
              "claude_runner_accounts")
LOCK_KEY = 7_243_117  # pg_advisory_xact_lock: one schema creator at a time


def apply(conn: Any) -> None:
    """Create what is missing, in one transaction (procrastinate's schema first)."""
    from procrastinate.schema import SchemaManager

    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOCK_KEY,))
        exists = conn.execute("SELECT to_regclass('procrastinate_jobs')").fetchone()[0]
        if exists is None:
            conn.execute(SchemaManager.get_schema())
        conn.execute(TABLES)
        conn.execute(
            "INSERT INTO claude_runner_meta (key, value) VALUES ('schema_version', %s), "
            "('procrastinate', %s) ON CONFLICT (key) DO NOTHING",
            (SCHEMA_VERSION, installed_procrastinate()))


def installed_procrastinate() -> str:
    import procrastinate

    return str(procrastinate.__version__)


def problems(conn: Any) -> list[str]:
    """What keeps this database from serving claude-runner (empty: all good)."""
    if conn.execute("SELECT to_regtype('procrastinate_job_to_defer_v1')").fetchone()[0] is None:
        return ["procrastinate's schema is missing"]
    found = []
    for signature in PROCRASTINATE_FUNCTIONS:
        row = conn.execute("SELECT to_regprocedure(%s)", (signature,)).fetchone()
        if row[0] is None:
            found.append(f"procrastinate function {signature.split('(')[0]} is missing")
    for table in OWN_TABLES:
        if conn.execute("SELECT to_regclass(%s)", (table,)).fetchone()[0] is None:
            found.append(f"table {table} is missing")
    if found:
        return found
    meta = dict(conn.execute("SELECT key, value FROM claude_runner_meta").fetchall())
    if meta.get("schema_version") != SCHEMA_VERSION:
        found.append(f"schema version {meta.get('schema_version')} (this code: {SCHEMA_VERSION})")
    created = str(meta.get("procrastinate", ""))
    if not created.startswith(PROCRASTINATE_SERIES + "."):
        found.append(f"created by procrastinate {created} (this code: {PROCRASTINATE_SERIES}.x)")
    return found
