"""`doctor` checks the schema; `status` shows nodes, accounts, pauses and spend."""

from __future__ import annotations

import json

import pytest
from helpers import cli
from pgnodes import setup_root

from pipeline.agent.verdict import Verdict
from pipeline.domain import clock
from pipeline.domain.attempt import RunFacts
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings_load import load_settings
from pipeline.domain.task import Task
from pipeline.postgres import db, schema
from pipeline.postgres.leases import _pause, claim, settle
from pipeline.postgres.tasks import admit

pytestmark = pytest.mark.postgres


def test_doctor_checks_the_schema(tmp_path, pg_dsn):
    setup_root(tmp_path, pg_dsn)
    before = cli(tmp_path, "doctor")
    assert "✗ postgres backend: procrastinate's schema is missing" in before.stdout
    with db.connect(pg_dsn) as conn:
        schema.apply(conn)
    after = cli(tmp_path, "doctor")
    assert "✓ postgres backend: schema complete (procrastinate 3.10" in after.stdout


def test_status_lists_nodes_accounts_pauses_and_spend(tmp_path, pg_dsn):
    setup_root(tmp_path, pg_dsn)
    settings = load_settings(tmp_path, environ={})
    now = clock.now()
    with db.connect(pg_dsn) as conn:
        schema.apply(conn)
        conn.execute("INSERT INTO claude_runner_nodes (name, account, host, pid, slots) VALUES "
                     "('n1', 'alice', 'here', 1, 1), ('n2', 'bob', 'there', 2, 2)")
        conn.execute("INSERT INTO claude_runner_accounts (name) VALUES ('alice'), ('bob')")
        for task_id in ("done-one", "runs"):
            admit(conn, Task.from_dict({"id": task_id, "prompt": "p"}))
        first = claim(conn, "n1", "alice", 30, now)
        settle(conn, first.token, Verdict(Outcome.SUCCESS, fields=RunFacts(cost_usd=0.25)),
               settings, now)
        claim(conn, "n2", "bob", 30, now)
        _pause(conn, "alice", now.replace(year=now.year + 1), "usage limit")
    status = json.loads(cli(tmp_path, "status", "--json").stdout)
    assert status["running"] == "runs"
    assert [n["name"] for n in status["nodes"]] == ["n1", "n2"]
    assert status["nodes"][1]["running"] == ["runs"]
    alice, bob = status["accounts"]
    assert alice["pausedUntil"] and alice["spentTodayUsd"] == 0.25 and bob["running"] == 1
    text = cli(tmp_path, "status").stdout
    assert "running  runs on n2 (bob)" in text
    assert "account  alice: 0 running, $0.2500 today, paused until" in text


def test_status_reports_a_database_that_is_down(tmp_path):
    setup_root(tmp_path, "postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    status = json.loads(cli(tmp_path, "status", "--json").stdout)
    assert status["backend"]["error"] and status["nodes"] == []
