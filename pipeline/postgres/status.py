"""What `status` adds with the postgres backend: nodes, accounts (pause, spend today)
and the tasks running on them, read from the database (a short connect timeout;
a database that is down is reported, never waited for)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from pipeline.domain.clock import iso
from pipeline.domain.settings import Settings


def cluster_status(settings: Settings, now: datetime) -> dict[str, Any]:
    from pipeline.postgres import db

    try:
        with db.connect(settings.backend_dsn, "claude-runner-status") as conn:
            return _read(conn, settings, now)
    except Exception as error:  # noqa: BLE001 - status never fails on the database
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else repr(error)
        return {"backend": {"kind": "postgres", "error": reason}, "nodes": [], "accounts": [],
                "runningTasks": []}


def _read(conn: Any, settings: Settings, now: datetime) -> dict[str, Any]:
    from pipeline.postgres.tasks import running as leases

    running = [{"id": lease.task_id, "node": lease.node, "account": lease.account,
                "attempt": lease.entry.number, "startedAt": lease.entry.started_at}
               for lease in leases(conn)]
    stale = timedelta(seconds=max(3 * settings.backend_renew_every, 10))
    nodes = [{"name": name, "account": account, "host": host, "pid": pid, "slots": slots,
              "alive": stopped is None and now - seen < stale, "seenAt": iso(seen),
              "running": [r["id"] for r in running if r["node"] == name]}
             for name, account, host, pid, slots, seen, stopped in conn.execute(
                 "SELECT name, account, host, pid, slots, seen_at, stopped_at FROM "
                 "claude_runner_nodes ORDER BY name").fetchall()]
    midnight = now.astimezone().replace(hour=0, minute=0, second=0, microsecond=0)
    accounts = [{"name": name, "pausedUntil": iso(until) if until and until > now else None,
                 "pauseReason": reason if until and until > now else None,
                 "spentTodayUsd": round(spent or 0.0, 4),
                 "running": sum(r["account"] == name for r in running)}
                for name, until, reason, spent in conn.execute(
                    "SELECT a.name, a.paused_until, a.pause_reason, (SELECT sum(cost_usd) FROM "
                    "claude_runner_attempts t WHERE t.account = a.name AND t.ended_at >= %s) "
                    "FROM claude_runner_accounts a ORDER BY a.name", (midnight,)).fetchall()]
    return {"backend": {"kind": "postgres", "error": None}, "nodes": nodes,
            "accounts": accounts, "runningTasks": running}


def render_lines(status: dict[str, Any]) -> list[str]:
    backend = status.get("backend") or {}
    if backend.get("error"):
        return [f"database {backend['error']}"]
    lines = []
    for task in status["runningTasks"]:
        lines.append(f"running  {task['id']} on {task['node']} ({task['account']}) - attempt "
                     f"{task['attempt']} since {task['startedAt']}")
    for node in status["nodes"]:
        state = "alive" if node["alive"] else "down"
        lines.append(f"node     {node['name']} ({node['account']}, {node['host']} pid "
                     f"{node['pid']}, {node['slots']} slot(s)) {state}")
    for account in status["accounts"]:
        pause = (f", paused until {account['pausedUntil']} ({account['pauseReason']})"
                 if account["pausedUntil"] else "")
        lines.append(f"account  {account['name']}: {account['running']} running, "
                     f"${account['spentTodayUsd']:.4f} today{pause}")
    return lines
