"""More scenarios: a database restart, per-account usage limits, schedules across a
head restart, priority and the gate, and the same id admitted twice across a head
crash. Each ends with every task id in exactly one terminal record."""

from __future__ import annotations

import json
import signal
import time

import pytest
from helpers import cli, drop, queue_ids, read_json, wait_for, write_json
from pgnodes import Cluster, assert_one_record_each, done, record, setup_root, wait_done

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(120)]


@pytest.fixture
def make_cluster(tmp_path, pg_dsn):
    made: list[Cluster] = []

    def make(extra: str = "") -> Cluster:
        root = tmp_path / "root"
        setup_root(root, pg_dsn, extra)
        made.append(Cluster(root, pg_dsn))
        return made[-1].start()

    yield make
    for cluster in made:
        cluster.stop()


def test_database_restart_while_three_tasks_run(make_cluster, pg_cluster, tmp_path):
    cluster = make_cluster("[backend]\nlease_seconds = 12\nrenew_every = 0.5\n")
    for name in ("n1", "n2", "n3"):
        cluster.node(name)
    counts = [tmp_path / f"runs-{i}" for i in range(3)]
    ids = [cluster.add(f"task {i}\n@append {counts[i]}\n@sleep 3") for i in range(3)]
    wait_for(lambda: all(c.exists() for c in counts), message="three tasks running")
    cluster.conn.close()
    pg_cluster.stop("fast")
    time.sleep(1)
    pg_cluster.start()
    from pipeline.postgres import db

    cluster.conn = db.connect(cluster.dsn)
    wait_done(cluster, ids, timeout=60)
    assert [len(c.read_text().splitlines()) for c in counts] == [1, 1, 1]  # none ran twice
    assert all(record(cluster.root, i)["status"] == "success" for i in ids)
    assert all(record(cluster.root, i)["attempts"] == 1 for i in ids)
    assert_one_record_each(cluster.root, ids)


def test_usage_limit_pauses_one_account(make_cluster, tmp_path):
    cluster = make_cluster("[runner]\nusage_limit_margin = 0\n")
    cluster.node("n1", "alice")
    cluster.node("n2", "bob")
    reset = int(time.time()) + 7
    limited = cluster.add(f"limited\n@usage-limit-once {tmp_path / 'hit'} "
                          f"Claude AI usage limit reached|{reset}")
    wait_done(cluster, [limited])
    paused = cluster.conn.execute("SELECT name FROM claude_runner_accounts WHERE "
                                  "paused_until IS NOT NULL").fetchall()
    assert len(paused) == 1
    account = paused[0][0]
    result = record(cluster.root, limited)
    assert result["status"] == "success" and result["attempts"] == 1  # not spent
    assert result["account"] != account  # completed elsewhere
    status = json.loads(cli(cluster.root, "status", "--json").stdout)
    shown = {a["name"]: a for a in status["accounts"]}
    assert shown[account]["pausedUntil"] and not shown[result["account"]]["pausedUntil"]
    other = "n2" if account == "alice" else "n1"
    cluster.nodes[other].stop()
    state_file = cluster.root / "tasks" / "state.json"
    wait_for(lambda: (read_json(state_file) or {}).get("pausedUntil"),
             message="the whole pause once every live account is paused")
    after = cluster.add("after the reset")
    wait_done(cluster, [after], timeout=30)
    wait_for(lambda: not (read_json(state_file) or {}).get("pausedUntil"),
             message="the whole pause over")
    assert record(cluster.root, after)["account"] == account  # the account resumed
    assert time.time() >= reset
    events = (cluster.root / "logs" / "events.jsonl").read_text()
    assert '"pause_start"' in events and f'"account":"{account}"' in events
    assert_one_record_each(cluster.root, [limited, after])


def test_schedule_with_three_nodes_and_a_head_restart(make_cluster, tmp_path):
    cluster = make_cluster()
    for name in ("n1", "n2", "n3"):
        cluster.node(name)
    scheduled = cluster.root / "tasks" / "scheduled.json"
    write_json(scheduled, {"tasks": [{"id": "tick", "cron": "*/2 * * * * *", "enabled": True,
                                      "prompt": "scheduled\n@sleep 0.3"}]})

    def copies() -> set[str]:
        rows = cluster.conn.execute("SELECT id FROM claude_runner_tasks WHERE id LIKE "
                                    "'tick-%'").fetchall()
        return {row[0] for row in rows}

    wait_for(lambda: len(copies()) >= 2, timeout=20, message="two firings")
    cluster.head.signal(signal.SIGKILL)
    cluster.head.wait()
    cluster.head.start()
    before = len(copies())
    wait_for(lambda: len(copies()) >= before + 2, timeout=20, message="two more firings")
    data = read_json(scheduled)
    data["tasks"][0]["enabled"] = False
    write_json(scheduled, data)
    wait_for(lambda: "nextRun" not in read_json(scheduled)["tasks"][0],
             message="the head seeing the schedule disabled")
    ids = sorted(copies())
    wait_done(cluster, ids)
    slots = [int(i.rsplit("-", 1)[1]) for i in ids]
    assert len(set(slots)) == len(slots)  # one copy per slot
    assert all(slot % 2000 == 0 for slot in slots)
    assert_one_record_each(cluster.root, ids)


def test_priority_and_the_gate(make_cluster, tmp_path):
    cluster = make_cluster("[queue]\nhigh_watermark = 3\nlow_watermark = 1\n")
    normal = [cluster.add(f"normal {i}") for i in range(4)]
    wait_for(lambda: queue_ids(cluster.root) == normal, message="the mirror of four tasks")
    refused = cli(cluster.root, "add", "one too many")
    assert refused.returncode == 75, refused.stderr
    assert cli(cluster.root, "queue", "check").stdout.strip() == "full"
    high = cluster.add("urgent", "--priority", "high")
    wait_for(lambda: queue_ids(cluster.root) == [high, *normal], message="high first")
    cluster.node("n1")
    ids = [high, *normal]
    wait_done(cluster, ids)
    started = sorted(ids, key=lambda i: record(cluster.root, i)["startedAt"])
    assert started == ids  # high first, then first in, first out
    assert cli(cluster.root, "queue", "check").stdout.strip() == "ok"
    assert_one_record_each(cluster.root, ids)


def test_same_id_admitted_twice_across_a_head_crash(make_cluster, tmp_path):
    cluster = make_cluster()
    cluster.add("only once", "--id", "twice")
    wait_for(lambda: cluster.state("twice") == "queued", message="the task in the database")
    cluster.head.signal(signal.SIGKILL)
    cluster.head.wait()
    # as if the head had died before saving its mirror: the entry now looks new
    (cluster.root / "tasks" / "queue.mirror.json").unlink()
    drop(cluster.root, "again.json", {"id": "twice", "prompt": "a second copy"})
    cluster.head.start()
    wait_for(lambda: (cluster.root / "inbox" / "rejected" / "again.json").exists(),
             message="the inbox copy rejected as a duplicate")
    wait_for(lambda: "queue_edit_ignored" in
             (cluster.root / "logs" / "events.jsonl").read_text(), message="the answer")
    cluster.node("n1")
    wait_done(cluster, ["twice"])
    rows = cluster.conn.execute("SELECT count(*) FROM claude_runner_tasks").fetchone()[0]
    assert rows == 1
    assert record(cluster.root, "twice")["prompt"] == "only once"
    assert done(cluster.root, ["twice"])
    assert_one_record_each(cluster.root, ["twice"])


def test_each_account_has_its_own_agent_environment(make_cluster, tmp_path):
    cluster = make_cluster('[backend.accounts.alice]\nAGENT_LOGIN = "alice-login"\n')
    cluster.node("n1", "alice")
    seen = tmp_path / "seen"
    task_id = cluster.add(f"who am I\n@echo-env AGENT_LOGIN {seen}")
    wait_done(cluster, [task_id])
    assert seen.read_text() == "alice-login"
    assert record(cluster.root, task_id)["account"] == "alice"
    assert_one_record_each(cluster.root, [task_id])


def test_an_agent_that_cannot_start_fails_the_attempt(make_cluster, tmp_path):
    cluster = make_cluster(f'[agent]\ncommand = "{tmp_path / "no-such-agent"}"\n')
    gone = tmp_path / "workspace"
    gone.mkdir()
    missing = cluster.add("no agent", "--max-retries", "0")
    elsewhere = cluster.add("no workspace", "-w", str(gone), "--max-retries", "0")
    wait_for(lambda: cluster.state(elsewhere) == "queued", message="both queued")
    gone.rmdir()
    cluster.node("n1")
    wait_done(cluster, [missing, elsewhere])
    assert "cannot start the agent" in record(cluster.root, missing)["error"]
    assert "does not exist on node n1" in record(cluster.root, elsewhere)["error"]
    assert_one_record_each(cluster.root, [missing, elsewhere])
