"""Honest figures: cancellations apart from failures everywhere, a median of runs that
ran, uptime from the runner's first start, no report for days it did not exist."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

from pipeline.cli.status import collect
from pipeline.domain.outcome import Outcome
from pipeline.domain.record import Record
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task
from pipeline.report.tasks import duration_figures, failure_reasons, task_figures
from pipeline.report.uptime import first_start, report_day_problem
from pipeline.stages.archive import Archive
from pipeline.storage import events
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.layout import Layout

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
RAN = {"status": "success", "outcome": "success", "startedAt": "x", "durationMs": 60_000}
FAILED = {"status": "failed", "outcome": "error", "startedAt": "x", "durationMs": 30_000,
          "error": "boom"}
CANCELLED = {"status": "failed", "outcome": "cancelled", "durationMs": 0, "error": "cancelled",
             "startedAt": None}


def records(*raws: dict) -> list[Record]:
    return [Record.from_dict({"id": f"t{n}", **raw}) for n, raw in enumerate(raws)]


def test_cancellations_are_not_failures_in_the_report() -> None:
    figures = task_figures(records(RAN, FAILED, CANCELLED, CANCELLED), set())
    assert (figures["completed"], figures["failed"], figures["cancelled"]) == (1, 1, 2)
    assert figures["successRate"] == 0.5
    assert [r["reason"] for r in failure_reasons(records(FAILED, CANCELLED))] == ["boom"]


def test_the_median_ignores_records_that_never_ran() -> None:
    durations = duration_figures(records(RAN, FAILED, CANCELLED, CANCELLED, CANCELLED))
    assert durations["count"] == 2 and durations["medianMs"] == 45_000


def test_a_cancel_fires_on_task_cancelled_not_on_task_failed(tmp_path, monkeypatch) -> None:
    layout = Layout(tmp_path)
    layout.ensure()
    fired = []
    monkeypatch.setattr(events, "run_hook", lambda argv, timeout: fired.append(argv))
    log = events.EventLog(layout.events, lambda: NOW, {
        "on_task_failed": ("failed", "{id}"),
        "on_task_cancelled": ("cancelled", "{id}", "{status}")}, 5)
    Archive(layout, Settings(), log).record_end(Task(id="c1", prompt="p"), Outcome.CANCELLED,
                                                NOW, "cancelled", 0)
    assert fired == [["cancelled", "c1", "cancelled"]]
    logged = [json.loads(line)["event"] for line in layout.events.read_text().splitlines()]
    assert logged == ["task_cancelled"]


def test_status_counts_cancellations_apart(tmp_path) -> None:
    layout = Layout(tmp_path)
    layout.ensure()
    JsonFile(layout.failed, "list").save({"list": [{"id": "a", **FAILED},
                                                   {"id": "b", **CANCELLED}]})
    status = collect(layout, Settings(), NOW)
    assert status["counts"] == {"completed": 0, "failed": 1, "cancelled": 1}
    assert status["lastFailure"]["id"] == "a"


def test_uptime_and_reports_start_with_the_runner(tmp_path) -> None:
    layout = Layout(tmp_path)
    assert first_start(layout) is None
    layout.heartbeats.mkdir(parents=True)
    born = NOW - timedelta(hours=2)
    (layout.heartbeats / "2026-11-28.txt").write_text(f"{born.isoformat()}\n{NOW.isoformat()}\n")
    (layout.heartbeats / "notes.txt").write_text("not a day file")
    assert first_start(layout) == born
    day = born.astimezone().date()
    assert report_day_problem(day, NOW, born) is None
    assert "first started" in report_day_problem(day - timedelta(days=1), NOW, born)
    assert "has not come yet" in report_day_problem(date(2027, 1, 1), NOW, born)


def test_status_uptime_counts_from_the_first_start(tmp_path) -> None:
    layout = Layout(tmp_path)
    layout.ensure()
    layout.heartbeats.mkdir(parents=True)
    beats = [NOW - timedelta(seconds=s) for s in range(3600, -1, -10)]
    (layout.heartbeats / f"{NOW.astimezone().date()}.txt").write_text(
        "".join(f"{b.isoformat()}\n" for b in beats))
    assert collect(layout, Settings(), NOW)["uptime"]["last24h"] == 100.0
