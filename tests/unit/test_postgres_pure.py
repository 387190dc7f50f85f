"""The pure parts of the postgres backend: settings, the DSN's timeouts and the
queue.json mirror diff (no database needed)."""

from __future__ import annotations

import pytest

from pipeline.domain.settings import SettingsError
from pipeline.domain.settings_load import load_settings
from pipeline.domain.task import Task
from pipeline.postgres.mirror import Act, plan


def settings_from(tmp_path, text: str):
    (tmp_path / "runner.toml").write_text(text)
    return load_settings(tmp_path, environ={})


def test_backend_defaults_to_files(tmp_path):
    settings = settings_from(tmp_path, "")
    assert settings.backend_kind == "files" and settings.backend_accounts == ()


def test_postgres_backend_settings_and_accounts(tmp_path):
    settings = settings_from(tmp_path, """
[backend]
kind = "postgres"
dsn = "postgresql://db/runner"
lease_seconds = 30
renew_every = 5

[backend.accounts.alice]
HOME = "/srv/alice"
""")
    assert settings.backend_lease_seconds == 30.0
    assert dict(settings.backend_accounts) == {"alice": (("HOME", "/srv/alice"),)}


@pytest.mark.parametrize("text, key", [
    ('[backend]\nkind = "redis"\n', "backend.kind"),
    ('[backend]\nkind = "postgres"\n', "backend.dsn"),
    ('[backend]\nlease_seconds = 10\nrenew_every = 6\n', "backend.renew_every"),
    ('[backend]\naccounts = 3\n', "backend.accounts"),
])
def test_bad_backend_settings_name_the_key(tmp_path, text, key):
    with pytest.raises(SettingsError, match=key):
        settings_from(tmp_path, text)


def test_the_dsn_gets_timeouts_unless_set():
    pytest.importorskip("psycopg")
    from pipeline.postgres.dsn import with_timeouts

    dsn = with_timeouts("postgresql://u@h/db?connect_timeout=2")
    assert "connect_timeout=2" in dsn and "keepalives=1" in dsn and "tcp_user_timeout" in dsn


def t(task_id: str, **fields) -> Task:
    return Task.from_dict({"id": task_id, "prompt": task_id, **fields})


def test_mirror_unchanged_means_nothing():
    shown = [t("a"), t("b")]
    assert plan(shown, shown, {"a": "queued", "b": "queued"}).steps == []


def test_mirror_new_removed_and_retried_entries():
    shown = [t("a"), t("b"), t("c")]
    now = [t("a"), t("c"), t("new"), t("again")]
    steps = plan(now, shown, {"a": "queued", "b": "queued", "c": "running",
                              "again": "done"}).steps
    assert [(s.act, s.task_id) for s in steps] == [
        (Act.ADMIT, "new"), (Act.READMIT, "again"), (Act.CANCEL, "b")]


def test_mirror_answers_what_it_cannot_honour():
    shown = [t("a"), t("b"), t("run")]
    now = [t("b"), t("a", prompt="edited"), t("dup")]
    steps = plan(now, shown, {"a": "queued", "b": "queued", "run": "running",
                              "dup": "running"}).steps
    assert all(s.act is Act.IGNORE for s in steps)
    reasons = " | ".join(s.reason for s in steps)
    for words in ("editing a queued task", "already running", "does not end it", "new order"):
        assert words in reasons


def test_a_finished_task_dropped_from_the_mirror_is_not_cancelled():
    assert plan([], [t("a")], {"a": "done"}).steps == []


def test_the_report_splits_cost_by_account_when_records_name_one():
    from pipeline.domain.record import records_in
    from pipeline.report.tasks import cost_figures

    records = [{"id": "a", "status": "success", "account": "alice", "costUsd": 0.5},
               {"id": "b", "status": "failed", "account": "alice", "costUsd": 0.25},
               {"id": "c", "status": "success", "account": "bob"}]
    figures = cost_figures(records_in(records))
    assert figures["byAccount"] == {"alice": {"tasks": 2, "failed": 1, "costUsd": 0.75},
                                    "bob": {"tasks": 1, "failed": 0, "costUsd": 0.0}}
    assert "byAccount" not in cost_figures(records_in([{"id": "x", "status": "success"}]))


def test_where_an_attempt_runs_rides_in_its_entry_but_not_back_to_the_queue():
    from datetime import UTC, datetime

    from pipeline.postgres.leases import placed, unplaced
    from pipeline.stages.run import running_entry

    queued = t("a", node="stale", custom={"kept": True})
    entry = placed(running_entry(queued, datetime(2026, 11, 28, tzinfo=UTC)), "n1", "alice")
    written = entry.to_dict()
    assert (written["node"], written["account"], written["attempt"]) == ("n1", "alice", 1)
    assert written["custom"] == {"kept": True}
    back = unplaced(entry.task).to_dict()
    assert "node" not in back and "account" not in back and back["custom"] == {"kept": True}


def test_a_slot_file_keeps_the_attempt_and_reads_back_typed(tmp_path):
    import json
    from datetime import UTC, datetime

    from pipeline.postgres.leases import Claim, placed
    from pipeline.postgres.slots import SlotFiles
    from pipeline.stages.run import running_entry

    entry = placed(running_entry(t("a", extraField=[1]), datetime(2026, 11, 28, tzinfo=UTC)),
                   "n1", "alice")
    files = SlotFiles(tmp_path / "slots")
    files.save(0, Claim("tok", 7, entry))
    files.save(0, Claim("tok", 7, entry), pid=123, pid_start_ticks=456)
    raw = json.loads((tmp_path / "slots" / "0.json").read_text())
    assert raw == {"token": "tok", "jobId": 7,
                   "entry": {**entry.to_dict(), "pid": 123, "pidStartTicks": 456}}
    files.mark_stopping(0)
    (tmp_path / "slots" / "1.json").write_text('{"token": "x", "entry": 3}')  # not ours
    (tmp_path / "slots" / "2.json").write_text('{"entry": {"id": "b"}}')
    [(index, saved)] = files.leftovers()
    assert (index, saved.token, saved.job_id, saved.stop_reason) == (0, "tok", 7, "shutdown")
    assert saved.entry.pid == 123 and saved.entry.pid_start_ticks == 456
    assert saved.entry.task == entry.task and saved.entry.started_at == entry.started_at
    assert sorted(p.name for p in (tmp_path / "slots").glob("*.json")) == ["0.json"]
