"""The postgres backend: several nodes (machines, accounts) on one queue.

procrastinate's schema and SQL functions carry the jobs (fetch with SKIP LOCKED,
priority, retry times, LISTEN/NOTIFY); claude-runner's own tables add what a
queue of hours-long agent runs needs: one row per task (idempotent admission),
leases with fencing tokens, one result per task, per-account pauses and nodes.
Every transition of a task is one transaction over both, so a crash anywhere
leaves the task in exactly one state. Optional: `pip install claude-runner[postgres]`.
"""


def missing_extra() -> str | None:
    """Why the postgres backend cannot run here (None: it can)."""
    import importlib.util

    for module in ("psycopg", "procrastinate"):
        if importlib.util.find_spec(module) is None:
            return (f"[backend] kind = \"postgres\" needs {module}: "
                    "pip install 'claude-runner[postgres]'")
    return None
