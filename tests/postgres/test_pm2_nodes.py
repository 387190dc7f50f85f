"""A head and a node under a real PM2 (ecosystem.config.js with CLAUDE_RUNNER_NODES):
`kill -9` of the node, PM2 restarts it, its recovery ends the orphaned agent and the task
completes once, its interrupted attempt counted; `pm2 restart` of the node (SIGINT to it
and its agent) requeues the task without counting the attempt."""

from __future__ import annotations

import signal
import uuid

import pytest
from helpers import pid_gone, wait_for
from pgnodes import assert_one_record_each, done, record, setup_root

from pipeline.postgres import db
from tests.integration.test_pm2 import ECOSYSTEM, Pm2, pm2_binary

pytestmark = [pytest.mark.postgres, pytest.mark.pm2, pytest.mark.timeout(120)]


def node_pid(conn, name: str) -> int | None:
    row = conn.execute("SELECT pid FROM claude_runner_nodes WHERE name = %s AND "
                       "stopped_at IS NULL", (name,)).fetchone()
    return row[0] if row else None


def test_pm2_restarts_a_killed_node(tmp_path, pg_dsn):
    binary = pm2_binary()
    if binary is None:
        pytest.skip("pm2 not installed (npm install --prefix .tools/pm2 pm2)")
    root = tmp_path / "root"
    setup_root(root, pg_dsn)
    app = f"cr-pg-{uuid.uuid4().hex[:8]}"
    pm2 = Pm2(binary, tmp_path / "pm2home", root, app)
    pm2.env["CLAUDE_RUNNER_NODES"] = "alice"
    name = f"{__import__('socket').gethostname()}-alice"
    conn = None
    try:
        pm2("start", str(ECOSYSTEM))
        conn = wait_for(lambda: _connect_when_ready(pg_dsn), timeout=30, message="the schema")
        first = wait_for(lambda: node_pid(conn, name), timeout=30, message="the node online")
        task_id = "under-pm2"
        marker = tmp_path / "ran"
        (root / "inbox" / "t.json").write_text(
            f'{{"id": "{task_id}", "prompt": "@once {marker} sleep 60"}}')
        wait_for(marker.exists, timeout=30, message="the agent running")
        slot = root / "nodes" / name / "tasks" / "slots" / "0.json"
        agent = wait_for(lambda: _agent_pid(slot), message="the agent's pid")
        import os

        os.kill(first, signal.SIGKILL)
        wait_for(lambda: (node_pid(conn, name) or first) != first, timeout=30,
                 message="PM2 restarting the node")
        wait_for(lambda: done(root, [task_id]), timeout=30, message="the task's record")
        assert pid_gone(agent)
        assert record(root, task_id)["attempts"] == 2
        # `pm2 restart` sends SIGINT to the node and to its agent: requeued, uncounted
        second, marker2 = "restarted", tmp_path / "ran2"
        (root / "inbox" / "t2.json").write_text(
            f'{{"id": "{second}", "prompt": "@once {marker2} sleep 60"}}')
        wait_for(marker2.exists, timeout=30, message="the second agent running")
        pm2("restart", f"{app}-node-alice")
        wait_for(lambda: done(root, [second]), timeout=30, message="the second record")
        assert record(root, second)["attempts"] == 1
        assert_one_record_each(root, [task_id, second])
    finally:
        if conn is not None:
            conn.close()
        pm2("kill")


def _connect_when_ready(dsn: str):
    conn = db.connect(dsn)
    if conn.execute("SELECT to_regclass('claude_runner_nodes')").fetchone()[0] is None:
        conn.close()
        return None
    return conn


def _agent_pid(slot) -> int | None:
    from helpers import read_json

    return (read_json(slot) or {}).get("entry", {}).get("pid")
