"""The core of the postgres backend against a real database: admission, claim, lease,
fencing, results, pauses, cancel and order - one transaction each."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.agent.usage_limit import UsageLimit
from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import RunFacts
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.postgres import db, schema
from pipeline.postgres.leases import Settled, claim, paused_until, reap, renew, settle
from pipeline.postgres.tasks import Admitted, Cancelled, admit, cancel, queued, readmit

pytestmark = pytest.mark.postgres
NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
SETTINGS = Settings(retry_delay=0, max_retries=2)


@pytest.fixture
def conn(pg_dsn):
    connection = db.connect(pg_dsn)
    schema.apply(connection)
    yield connection
    connection.close()


def task(task_id: str, **fields) -> Task:
    return Task.from_dict({"id": task_id, "prompt": f"do {task_id}",
                           "createdAt": NOW.isoformat(), **fields})


def results(conn) -> dict[str, dict]:
    return dict(conn.execute("SELECT task_id, record FROM claude_runner_results").fetchall())


def job_status(conn, task_id: str) -> str:
    return conn.execute("SELECT j.status FROM procrastinate_jobs j JOIN claude_runner_tasks t "
                        "ON t.job_id = j.id WHERE t.id = %s", (task_id,)).fetchone()[0]


def expire(conn, token: str) -> None:
    conn.execute("UPDATE claude_runner_leases SET expires_at = now() - interval '1 second', "
                 "started_at = now() - interval '1 minute' WHERE token = %s", (token,))


def test_schema_is_idempotent_and_checked(conn):
    schema.apply(conn)
    assert schema.problems(conn) == []
    conn.execute("DROP TABLE claude_runner_accounts")
    assert schema.problems(conn) == ["table claude_runner_accounts is missing"]


def test_admission_is_idempotent_by_id(conn):
    assert admit(conn, task("a")) is Admitted.NEW
    assert admit(conn, task("a", prompt="other")) is Admitted.QUEUED
    assert [t.prompt for t in queued(conn)] == ["do a"]
    assert job_status(conn, "a") == "todo"


def test_claim_run_and_one_result(conn):
    admit(conn, task("a"))
    first = claim(conn, "n1", "alice", 30, NOW)
    assert first and first.entry.id == "a" and first.entry.number == 1
    assert first.entry.to_dict()["node"] == "n1" and first.entry.to_dict()["account"] == "alice"
    assert claim(conn, "n2", "bob", 30, NOW) is None
    assert admit(conn, task("a")) is Admitted.RUNNING
    held, cancels = renew(conn, [first.token], 30)
    assert held == {first.token} and cancels == set()
    done = settle(conn, first.token, Verdict(Outcome.SUCCESS, fields=RunFacts(cost_usd=0.5)),
                  SETTINGS, NOW)
    assert done is Settled.CLOSED
    assert results(conn)["a"]["status"] == "success"
    assert job_status(conn, "a") == "succeeded"
    assert settle(conn, first.token, Verdict(Outcome.SUCCESS), SETTINGS, NOW) is Settled.FENCED
    assert admit(conn, task("a")) is Admitted.DONE


def test_a_reaped_lease_fences_its_late_result(conn):
    admit(conn, task("a"))
    frozen = claim(conn, "n1", "alice", 30, NOW)
    expire(conn, frozen.token)
    assert reap(conn, SETTINGS, 5, NOW) == ["a"]
    assert renew(conn, [frozen.token], 30) == (set(), set())
    other = claim(conn, "n2", "bob", 30, NOW)
    assert other.entry.number == 2  # the interruption counted
    late = settle(conn, frozen.token, Verdict(Outcome.SUCCESS, fields=RunFacts(result="late")),
                  SETTINGS, NOW)
    assert late is Settled.FENCED
    assert settle(conn, other.token, Verdict(Outcome.SUCCESS, fields=RunFacts(result="mine")),
                  SETTINGS, NOW) is Settled.CLOSED
    record = results(conn)["a"]
    assert record["result"] == "mine" and record["node"] == "n2" and record["attempts"] == 2


def test_the_reaper_spares_live_and_young_leases(conn):
    admit(conn, task("a"))
    admit(conn, task("b"))
    live = claim(conn, "n1", "alice", 30, NOW)
    young = claim(conn, "n2", "bob", 30, NOW)
    conn.execute("UPDATE claude_runner_leases SET expires_at = now() - interval '1 second' "
                 "WHERE token = %s", (young.token,))
    assert reap(conn, SETTINGS, 60, NOW) == []  # expired, but within its start grace
    assert renew(conn, [live.token, young.token], 30)[0] == {live.token, young.token}


def test_a_failed_attempt_is_retried_then_failed(conn):
    admit(conn, task("a", maxRetries=1))
    for attempt in (1, 2):
        held = claim(conn, "n1", "alice", 30, NOW)
        assert held.entry.number == attempt
        settle(conn, held.token, Verdict(Outcome.ERROR, "boom", retryable=True), SETTINGS, NOW)
    assert results(conn)["a"]["outcome"] == "error"
    assert results(conn)["a"]["attempts"] == 2


def test_a_usage_limit_pauses_only_that_account(conn):
    admit(conn, task("a"))
    held = claim(conn, "n1", "alice", 30, NOW)
    limit = UsageLimit("limit reached", datetime.now(UTC) + timedelta(hours=1))
    verdict = Verdict(Outcome.ERROR, "usage limit", retryable=True, counts=False,
                      usage_limit=limit)
    assert settle(conn, held.token, verdict, SETTINGS, NOW) is Settled.REQUEUED
    assert paused_until(conn, "alice") is not None
    assert claim(conn, "n1", "alice", 30, NOW) is None
    elsewhere = claim(conn, "n2", "bob", 30, NOW)
    assert elsewhere.entry.number == 1  # the limited attempt was not spent


def test_cancel_queued_and_running(conn):
    admit(conn, task("q"))
    admit(conn, task("r"))
    running = claim(conn, "n1", "alice", 30, NOW)
    assert running.entry.id == "q"
    assert cancel(conn, "r", NOW) is Cancelled.QUEUED
    assert results(conn)["r"]["outcome"] == "cancelled"
    assert cancel(conn, "q", NOW) is Cancelled.RUNNING
    assert renew(conn, [running.token], 30)[1] == {running.token}
    # the node ends the agent; whatever its end, the task is cancelled, not retried
    settle(conn, running.token, Verdict(Outcome.ERROR, "killed", retryable=True), SETTINGS, NOW)
    assert results(conn)["q"]["outcome"] == "cancelled"
    assert cancel(conn, "q", NOW) is None


def test_high_priority_and_retry_times(conn):
    admit(conn, task("late", notBefore=(datetime.now(UTC) + timedelta(hours=1)).isoformat()))
    admit(conn, task("normal"))
    admit(conn, task("high", priority="high"))
    order = [claim(conn, "n", "a", 30, NOW) for _ in range(3)]
    assert [c.entry.id if c else None for c in order] == ["high", "normal", None]


def test_readmission_of_an_archived_task(conn):
    admit(conn, task("a"))
    held = claim(conn, "n1", "alice", 30, NOW)
    settle(conn, held.token, Verdict(Outcome.ERROR, "final"), SETTINGS, NOW)
    assert readmit(conn, task("a", attempts=0)) is False  # result not archived yet
    conn.execute("UPDATE claude_runner_results SET archived_at = now()")
    assert readmit(conn, task("a", attempts=0)) is True
    assert results(conn) == {}
    assert claim(conn, "n1", "alice", 30, NOW).entry.number == 1


def test_prune_drops_old_finished_jobs_only(conn):
    from pipeline.postgres.maintenance import prune

    for task_id in ("old", "new", "waiting"):
        admit(conn, task(task_id))
    for _ in range(2):
        held = claim(conn, "n1", "alice", 30, NOW)
        settle(conn, held.token, Verdict(Outcome.SUCCESS), SETTINGS, NOW)
    conn.execute("UPDATE claude_runner_results SET archived_at = now() - interval '8 days' "
                 "WHERE task_id = 'old'")
    conn.execute("UPDATE claude_runner_results SET archived_at = now() WHERE task_id = 'new'")
    prune(conn, 7)
    jobs = conn.execute("SELECT args->>'task_id' FROM procrastinate_jobs").fetchall()
    assert sorted(row[0] for row in jobs) == ["new", "waiting"]
    assert admit(conn, task("old")) is Admitted.DONE  # still known: never admitted twice


def test_a_cancel_waiting_on_a_claim_does_not_deadlock(pg_dsn, conn):
    """A claim locks the job, then the task; cancel (and settle) take them in the same
    order, so a cancel arriving mid-claim waits instead of deadlocking."""
    import threading

    from helpers import wait_for

    admit(conn, task("a"))
    answers: list = []
    with db.connect(pg_dsn) as other, db.connect(pg_dsn) as watcher:
        def cancel_it() -> None:
            try:
                answers.append(cancel(other, "a", NOW))
            except Exception as error:  # noqa: BLE001
                answers.append(error)

        with conn.transaction():
            assert db.fetch(conn) is not None  # the job row is now locked, as in a claim
            thread = threading.Thread(target=cancel_it)
            thread.start()
            wait_for(lambda: watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE "
                                             "wait_event_type = 'Lock'").fetchone()[0],
                     message="the cancel waiting for a lock")
            conn.execute("SELECT 1 FROM claude_runner_tasks WHERE id = 'a' FOR UPDATE")
            conn.execute("UPDATE claude_runner_tasks SET state = 'running' WHERE id = 'a'")
        thread.join(timeout=10)
    assert answers == [Cancelled.RUNNING]


def test_a_result_written_before_a_crash_is_archived_once(pg_dsn, conn, tmp_path):
    from helpers import history

    from pipeline.domain.record import Record
    from pipeline.postgres.collect import ResultCollector
    from pipeline.stages.archive import Archive
    from pipeline.storage.events import EventLog
    from pipeline.storage.layout import Layout

    layout = Layout(tmp_path)
    layout.ensure()
    admit(conn, task("a"))
    held = claim(conn, "n1", "alice", 30, NOW)
    settle(conn, held.token, Verdict(Outcome.SUCCESS), SETTINGS, NOW)
    record = results(conn)["a"]
    archive = Archive(layout, SETTINGS, EventLog(layout.events, lambda: NOW))
    archive.publish(Record.from_dict(record))  # the head wrote it, then died before marking
    assert ResultCollector(layout, archive).collect(conn, NOW) == 1
    assert [r["id"] for r in history(tmp_path)] == ["a"]
    assert conn.execute("SELECT archived_at FROM claude_runner_results").fetchone()[0]


def test_unknown_fields_ride_through_the_database_untouched(conn):
    odd = {"custom": {"nested": [1, {"deep": None}]}, "ticket": "T-1", "model": 7}
    admit(conn, task("a", **odd))
    assert queued(conn)[0].to_dict() == task("a", **odd).to_dict()
    held = claim(conn, "n1", "alice", 30, NOW)
    lease = conn.execute("SELECT entry FROM claude_runner_leases").fetchone()[0]
    assert {k: lease[k] for k in (*odd, "node", "account", "attempt")} == \
        {**odd, "node": "n1", "account": "alice", "attempt": 1}
    settle(conn, held.token, Verdict(Outcome.ERROR, "boom", retryable=True), SETTINGS, NOW)
    row = conn.execute("SELECT task FROM claude_runner_tasks WHERE id = 'a'").fetchone()[0]
    assert {k: row[k] for k in odd} == odd and row["attempts"] == 1
    assert "node" not in row and "account" not in row and "startedAt" not in row
    held = claim(conn, "n2", "bob", 30, NOW)
    settle(conn, held.token, Verdict(Outcome.SUCCESS, fields=RunFacts(cost_usd=0.5)), SETTINGS, NOW)
    record = results(conn)["a"]
    assert {k: record[k] for k in odd} == odd
    assert (record["node"], record["account"], record["attempts"], record["costUsd"]) == \
        ("n2", "bob", 2, 0.5)
