"""One head and up to three nodes on loopback with the fake agent, short leases.
After every scenario, every task id is in exactly one terminal record in the
files and in history."""

from __future__ import annotations

import signal
import time

import pytest
from helpers import cli, drop, pid_gone, queue_ids, read_json, task_log, wait_for, write_json
from pgnodes import Cluster, assert_one_record_each, record, setup_root, wait_done

pytestmark = [pytest.mark.postgres, pytest.mark.timeout(90)]


@pytest.fixture
def cluster(tmp_path, pg_dsn):
    root = tmp_path / "root"
    setup_root(root, pg_dsn)
    running = Cluster(root, pg_dsn)
    try:
        yield running.start()
    finally:
        running.stop()


def no_overlap_per_account(conn) -> bool:
    rows = conn.execute("SELECT account, started_at, ended_at FROM claude_runner_attempts "
                        "ORDER BY account, started_at").fetchall()
    for (acct, _, end), (next_acct, start, _) in zip(rows, rows[1:], strict=False):
        if acct == next_acct and (end is None or start < end):
            return False
    return True


def test_fan_out_over_three_nodes(cluster):
    for name in ("n1", "n2", "n3"):
        cluster.node(name)
    ids = [cluster.add(f"task {i}\n@sleep 0.5") for i in range(9)]
    wait_done(cluster, ids)
    assert_one_record_each(cluster.root, ids)
    nodes = {record(cluster.root, i)["node"] for i in ids}
    assert len(nodes) >= 2, nodes
    assert no_overlap_per_account(cluster.conn)
    assert all(record(cluster.root, i)["status"] == "success" for i in ids)
    assert "done: task 0" in task_log(cluster.root, ids[0])  # the node's log, on the head
    wait_for(lambda: queue_ids(cluster.root) == [], message="an empty mirror")


def test_inbox_and_queue_json_edits(cluster, tmp_path):
    """queue.json is a mirror: a new entry is admitted, a removed queued entry is
    cancelled, a reorder is answered and not honoured."""
    drop(cluster.root, "one.json", {"id": "from-inbox", "prompt": "hi"})
    drop(cluster.root, "bad.json", {"prompt": ""})
    wait_for(lambda: cluster.state("from-inbox") == "queued", message="inbox admission")
    assert (cluster.root / "inbox" / "rejected" / "bad.json").exists()
    for task_id in ("keep", "drop-me", "third"):
        cluster.add(f"{task_id}", "--id", task_id)
    wait_for(lambda: queue_ids(cluster.root) == ["from-inbox", "keep", "drop-me", "third"],
             message="the mirror of four queued tasks")
    queue_file = cluster.root / "tasks" / "queue.json"
    from filelock import FileLock

    with FileLock(f"{queue_file}.lock"):
        entries = read_json(queue_file)["list"]
        entries = [t for t in entries if t["id"] != "drop-me"]
        entries.reverse()
        entries.append({"id": "edited-in", "prompt": "added by an agent"})
        entries.append({"id": "bad-entry", "prompt": ""})
        write_json(queue_file, {"list": entries})
    wait_for(lambda: cluster.state("edited-in") == "queued", message="the new entry")
    wait_done(cluster, ["drop-me"])
    assert record(cluster.root, "drop-me")["outcome"] == "cancelled"
    wait_for(lambda: queue_ids(cluster.root) == ["from-inbox", "keep", "third", "edited-in"],
             message="the mirror rewritten in run order")
    events = (cluster.root / "logs" / "events.jsonl").read_text()
    assert "queue_edit_ignored" in events and "new order" in events
    assert record(cluster.root, "bad-entry")["outcome"] == "invalid"
    assert cluster.state("bad-entry") is None  # never in the database
    cluster.node("n1")
    ids = ["from-inbox", "keep", "third", "edited-in", "drop-me", "bad-entry"]
    wait_done(cluster, ids)
    assert_one_record_each(cluster.root, ids)


def test_kill_9_of_a_node_with_restart(cluster, tmp_path):
    gate = tmp_path / "release"
    first = cluster.node("n1")
    task_id = cluster.add(f"long\n@once {tmp_path / 'ran'} wait {gate} 60")
    wait_for((tmp_path / "ran").exists, message="the first attempt running on n1")
    slot_file = cluster.root / "nodes" / "n1" / "tasks" / "slots" / "0.json"
    pid = wait_for(lambda: (read_json(slot_file) or {}).get("entry", {}).get("pid"),
                   message="the agent's pid")
    first.signal(signal.SIGKILL)
    first.wait()
    assert not pid_gone(pid)  # the orphan lives on until the node comes back
    cluster.node("n1")  # same name: its crash recovery ends the orphan first
    wait_done(cluster, [task_id])
    assert pid_gone(pid)
    result = record(cluster.root, task_id)
    assert result["status"] == "success" and result["attempts"] == 2  # interrupted counted
    assert_one_record_each(cluster.root, [task_id])


def test_kill_9_without_restart_is_reaped(cluster, tmp_path):
    first = cluster.node("n1")
    task_id = cluster.add(f"long\n@once {tmp_path / 'ran'} sleep 60")
    wait_for((tmp_path / "ran").exists, message="the first attempt running on n1")
    first.signal(signal.SIGKILL)
    first.wait()
    cluster.node("n2")
    wait_done(cluster, [task_id])
    result = record(cluster.root, task_id)
    assert result["node"] == "n2" and result["attempts"] == 2
    assert_one_record_each(cluster.root, [task_id])


def test_sigstop_past_the_lease_is_fenced(cluster, tmp_path):
    release = tmp_path / "release"
    frozen = cluster.node("n1")
    task_id = cluster.add(f"work\n@once {tmp_path / 'first'} wait {release} 60")
    wait_for((tmp_path / "first").exists, message="the first attempt running on n1")
    frozen.signal(signal.SIGSTOP)
    cluster.node("n2")
    wait_for(lambda: (cluster.lease(task_id) or ("",))[0] == "n2", timeout=30,
             message="the reaper handing the task to n2")
    wait_done(cluster, [task_id])
    release.touch()  # the frozen node's agent ends too; its result comes late
    frozen.signal(signal.SIGCONT)
    # n1's own end of the attempt was refused by the database (settle: fenced)
    wait_for(lambda: ": fenced" in frozen.text(), timeout=20, message="n1's end refused")
    result = record(cluster.root, task_id)
    assert result["node"] == "n2"
    assert_one_record_each(cluster.root, [task_id])


def test_sigterm_requeues_uncounted_and_exits_in_time(cluster, tmp_path):
    node = cluster.node("n1")
    task_id = cluster.add(f"long\n@once {tmp_path / 'ran'} sleep 60")
    wait_for((tmp_path / "ran").exists, message="the first attempt running on n1")
    started = time.monotonic()
    node.signal(signal.SIGTERM)
    assert node.wait(timeout=15) == 0
    assert time.monotonic() - started < 1 + 5  # kill_grace + 5
    assert cluster.state(task_id) == "queued"
    cluster.node("n2")
    wait_done(cluster, [task_id])
    assert record(cluster.root, task_id)["attempts"] == 1  # the stop did not count
    assert_one_record_each(cluster.root, [task_id])


def test_cancel_queued_and_running(cluster, tmp_path):
    cluster.node("n1")
    running = cluster.add("long\n@sleep 60")
    wait_for(lambda: cluster.lease(running), message="the task running")
    queued = cluster.add("waits")
    wait_for(lambda: cluster.state(queued) == "queued", message="the second task queued")
    assert cli(cluster.root, "cancel", queued).returncode == 0
    assert cli(cluster.root, "cancel", running).returncode == 0
    assert cli(cluster.root, "cancel", "nope").returncode == 1
    wait_done(cluster, [queued, running])
    assert record(cluster.root, queued)["outcome"] == "cancelled"
    assert record(cluster.root, running)["outcome"] == "cancelled"
    assert_one_record_each(cluster.root, [queued, running])


def test_a_second_head_on_the_same_database_stays_out(cluster, tmp_path):
    from pgnodes import head as head_process

    other = tmp_path / "other"
    setup_root(other, cluster.dsn)
    second = head_process(other).start()
    try:
        wait_for(lambda: "another head serves this database" in second.output(),
                 message="the second head's refusal")
        cluster.add("still served by the first head", "--id", "first")
        wait_for(lambda: cluster.state("first") == "queued", message="the first head working")
    finally:
        second.stop()
