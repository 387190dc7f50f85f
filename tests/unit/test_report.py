"""The daily report, on a root with eight days of known history, heartbeats and events.

The report zone is UTC+02:00, so local dates differ from UTC dates near midnight.
Day D = 2026-03-10; the comparison covers D-7 .. D-1.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ElementTree
from datetime import date, datetime, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from pipeline.domain.clock import iso
from pipeline.domain.record import records_in
from pipeline.report.build import (
    SUMMARY_KEYS,
    build_report,
    render_markdown,
    render_svg,
    write_report,
)
from pipeline.report.data import Event, load_records
from pipeline.report.events import full_spans, pause_spans
from pipeline.storage.jsonfile import append_line
from pipeline.storage.layout import Layout

TZ = timezone(timedelta(hours=2))
D = date(2026, 3, 10)
NOW = datetime(2026, 3, 11, 8, 0, tzinfo=TZ)
POLL = 10.0


def at(day: date, hour: int, minute: int = 0, second: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, second, tzinfo=TZ)


def ago(days: int) -> date:
    return D - timedelta(days=days)


def write_heartbeats(layout: Layout, day: date, gap: tuple[datetime, datetime] | None) -> None:
    """A beat every 10 s from 00:00:05 to 23:59:55, none strictly inside `gap`."""
    lines, moment = [], at(day, 0, 0, 5)
    while moment.date() == day:
        if gap is None or not gap[0] < moment < gap[1]:
            lines.append(iso(moment))
        moment += timedelta(seconds=10)
    layout.heartbeats.mkdir(parents=True, exist_ok=True)
    (layout.heartbeats / f"{day.isoformat()}.txt").write_text("\n".join(lines) + "\n")


def record(task_id: str, end: datetime, duration_ms: int, *, ok: bool = True,
           outcome: str | None = None, role: str | None = None, cost: float | None = None,
           attempts: int = 1, error: str | None = None, end_text: str | None = None) -> dict:
    data: dict[str, Any] = {
        "id": task_id, "prompt": "do it", "status": "success" if ok else "failed",
        "outcome": outcome or ("success" if ok else "error"), "attempts": attempts,
        "startedAt": iso(end - timedelta(milliseconds=duration_ms)),
        "completedAt" if ok else "failedAt": end_text or iso(end),
        "durationMs": duration_ms, "exitCode": 0 if ok else 1,
    }
    if role:
        data["role"] = role
    if cost is not None:
        data["costUsd"] = cost
    if error:
        data["error"] = error
    return data


def file_record(layout: Layout, file_day: date, data: dict) -> None:
    append_line(layout.history / f"{file_day.isoformat()}.jsonl", data)


def event(moment: datetime, name: str, **fields: Any) -> dict:
    return {"at": iso(moment), "event": name, **fields}


def day_d_records() -> list[tuple[date, dict]]:
    return [
        # Filed under its UTC date, as a writer in another zone would: still day D here.
        (ago(1), record("t1", at(D, 0, 30), 60_000, role="dev", cost=0.5,
                        end_text="2026-03-09T22:30:00.000Z")),
        (D, record("t2", at(D, 9, 15), 120_000, role="dev", cost=1.25, attempts=2)),
        (D, record("t3", at(D, 9, 45), 30_000, role="review", cost=0.25)),
        (D, record("t4", at(D, 14, 5), 600_000, ok=False, outcome="timeout", role="review",
                   attempts=3, error="Timed out after 600000 ms")),
        (D, record("t5", at(D, 14, 20), 45_000, ok=False, role="dev", cost=0.10,
                   error="exit code 1: boom")),
        (D, record("t6", at(D, 20, 10), 15_000, ok=False, role="dev", cost=0.05,
                   error="exit code 2:  boom")),
        (D, record("t7", at(D, 23, 50), 90_000, cost=0.40)),
        # Ends after D: belongs to D+1.
        (D + timedelta(days=1), record("t9", at(D + timedelta(days=1), 0, 10), 5_000,
                                       role="dev", cost=9.0)),
    ]


def previous_records() -> list[tuple[date, dict]]:
    out = []
    for back in range(7, 1, -1):
        day = ago(back)
        out.append((day, record(f"p{back}a", at(day, 12), 10_000, role="dev", cost=0.1)))
        out.append((day, record(f"p{back}b", at(day, 13), 30_000, role="dev", cost=0.2)))
    out.append((ago(1), record("y1", at(ago(1), 8), 40_000, role="review", cost=0.3)))
    out.append((ago(1), record("y2", at(ago(1), 23, 55), 600_000, ok=False, outcome="timeout",
                               attempts=2, error="Timed out after 600000 ms")))
    return out


def events() -> list[dict]:
    y = ago(1)
    nxt = D + timedelta(days=1)
    out = [event(at(ago(back), 2), "schedule_fired", scheduleId="nightly", taskId=f"n{back}")
           for back in range(7, 0, -1)]
    out += [
        event(at(y, 15), "level", **{"from": "ok", "to": "busy", "length": 8}),
        event(at(y, 16), "level", **{"from": "busy", "to": "ok", "length": 3}),
        event(at(y, 23), "pause_start", until=iso(at(D, 1, 30)), reason="usage limit reached"),
        event(at(D, 1, 30), "pause_end"),
        event(at(D, 2), "schedule_fired", scheduleId="nightly", taskId="n0"),
        event(at(D, 8), "level", **{"from": "ok", "to": "busy", "length": 6}),
        event(at(D, 8, 30), "level", **{"from": "busy", "to": "full", "length": 11}),
        event(at(D, 9), "level", **{"from": "full", "to": "ok", "length": 5}),
        event(at(D, 9), "schedule_fired", scheduleId="hourly", taskId="h9"),
        event(at(D, 9, 10), "task_retry", id="t2", attempt=1, error="exit 1",
              notBefore=iso(at(D, 9, 11))),
        event(at(D, 10), "schedule_skipped", scheduleId="hourly", reason="previous still queued"),
        event(at(D, 10, 30, 5), "daemon_start", pid=11, previous="crash"),
        event(at(D, 11), "schedule_fired", scheduleId="hourly", taskId="h11"),
        event(at(D, 12), "level", **{"from": "ok", "to": "busy", "length": 7}),
        event(at(D, 12, 10), "level", **{"from": "busy", "to": "full", "length": 12}),
        event(at(D, 12, 30), "schedule_skipped", scheduleId="hourly", reason="queue full"),
        event(at(D, 12, 40), "level", **{"from": "full", "to": "ok", "length": 4}),
        event(at(D, 13), "schedule_fired", scheduleId="hourly", taskId="h13"),
        event(at(D, 13), "task_retry", id="t4", attempt=1, error="timeout"),
        event(at(D, 13, 30), "task_retry", id="t4", attempt=2, error="timeout"),
        event(at(D, 14), "schedule_skipped", scheduleId="hourly", reason="previous still queued"),
        event(at(D, 15), "pause_start", until=iso(at(D, 15, 20)), reason="usage limit reached"),
        event(at(D, 15, 20), "pause_end"),
        event(at(D, 18), "daemon_stop", pid=11, reason="SIGTERM"),
        event(at(D, 18, 0, 3), "daemon_start", pid=12, previous="clean"),
        event(at(D, 21), "task_retry", id="t8", attempt=1, error="exit 1"),
        event(at(D, 23, 30), "pause_start", until=iso(at(nxt, 0, 30)), reason="usage limit"),
        event(at(nxt, 0, 30), "pause_end"),
    ]
    return out


@pytest.fixture(scope="module")
def layout(tmp_path_factory: pytest.TempPathFactory) -> Layout:
    """Built once: the tests only read it (write_report adds logs/reports/)."""
    root = Layout(tmp_path_factory.mktemp("root"))
    root.ensure()
    for back in range(7, 1, -1):
        write_heartbeats(root, ago(back), None)
    write_heartbeats(root, ago(1), (at(ago(1), 3, 0, 5), at(ago(1), 4, 0, 5)))
    write_heartbeats(root, D, (at(D, 10, 0, 5), at(D, 10, 30, 5)))
    for file_day, data in previous_records() + day_d_records():
        file_record(root, file_day, data)
    root.logs.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(e) for e in events()]
    root.events.write_text("\n".join(lines) + "\n{\"at\": \"torn")
    return root


@pytest.fixture(scope="module")
def report(layout: Layout) -> dict:
    return build_report(layout, D, NOW, POLL, tz=TZ)


def test_top_level_shape(report: dict) -> None:
    assert list(report) == [
        "day", "generatedAt", "pollInterval", "maxGapSeconds", "window", "hasData", "uptime",
        "restarts", "tasks", "durations", "cost", "pauses", "backpressure", "schedules",
        "failures", "hourly", "scheduleHealth", "summary", "comparison", "goals"]
    assert report["day"] == "2026-03-10"
    assert report["generatedAt"] == "2026-03-11T08:00:00.000+02:00"
    assert report["window"] == {"start": "2026-03-10T00:00:00.000+02:00",
                                "end": "2026-03-11T00:00:00.000+02:00", "seconds": 86400}
    assert report["maxGapSeconds"] == 30
    json.dumps(report)


def test_uptime_and_restarts(report: dict) -> None:
    assert report["uptime"] == {
        "upSeconds": 84600, "downSeconds": 1800, "percent": 97.9167,
        "gaps": [{"start": "2026-03-10T10:00:05.000+02:00",
                  "end": "2026-03-10T10:30:05.000+02:00", "seconds": 1800}]}
    assert report["restarts"] == {"total": 2, "byCause": {"clean": 1, "crash": 1}}


def test_task_counts(report: dict) -> None:
    assert report["tasks"] == {
        "total": 7, "completed": 4, "failed": 3, "cancelled": 0, "timedOut": 1,
        "retried": 3, "retriedIds": ["t2", "t4", "t8"], "successRate": 0.571429,
        "outcomes": {"error": 2, "success": 4, "timeout": 1}}
    assert report["durations"] == {"count": 7, "medianMs": 60_000, "p95Ms": 600_000,
                                   "maxMs": 600_000}


def test_costs(report: dict) -> None:
    assert report["cost"] == {
        "totalUsd": 2.55, "tasksWithCost": 6, "failedAttemptsUsd": 0.15,
        "byRole": {"dev": {"tasks": 4, "failed": 2, "costUsd": 1.9, "failedAttemptsUsd": 0.15},
                   "(none)": {"tasks": 1, "failed": 0, "costUsd": 0.4,
                              "failedAttemptsUsd": 0.0},
                   "review": {"tasks": 2, "failed": 1, "costUsd": 0.25,
                              "failedAttemptsUsd": 0.0}}}


def test_spend_on_failed_attempts_counts_every_attempt() -> None:
    from pipeline.report.tasks import cost_figures

    records = [{"id": "s", "status": "success", "role": "dev", "costUsd": 0.1,
                "totalCostUsd": 0.35},
               {"id": "f", "status": "failed", "role": "dev", "costUsd": 0.2,
                "totalCostUsd": 0.5}]
    figures = cost_figures(records_in(records))
    assert figures["totalUsd"] == 0.85
    assert figures["failedAttemptsUsd"] == 0.75  # 0.25 before the success + all of 0.5


def test_pauses_are_clipped_to_the_day(report: dict) -> None:
    pauses = report["pauses"]
    assert pauses["count"] == 3
    assert pauses["seconds"] == 5400 + 1200 + 1800
    assert [p["seconds"] for p in pauses["list"]] == [5400, 1200, 1800]
    assert pauses["list"][0] == {
        "start": "2026-03-09T23:00:00.000+02:00", "end": "2026-03-10T01:30:00.000+02:00",
        "until": "2026-03-10T01:30:00.000+02:00", "reason": "usage limit reached",
        "open": False, "seconds": 5400}


def test_backpressure_and_schedules(report: dict) -> None:
    assert report["backpressure"] == {"fullEpisodes": 2, "fullSeconds": 3600, "queuePeak": 12,
                                      "levelChanges": 6}
    assert report["schedules"] == {
        "fired": 4, "skipped": 3,
        "byId": {"hourly": {"fired": 3, "skipped": 3,
                            "skipReasons": {"previous still queued": 2, "queue full": 1}},
                 "nightly": {"fired": 1, "skipped": 0, "skipReasons": {}}}}


def test_failure_reasons_group_errors_that_differ_in_numbers(report: dict) -> None:
    assert report["failures"] == [
        {"reason": "exit code 1: boom", "count": 2, "outcomes": {"error": 2},
         "taskIds": ["t5", "t6"]},
        {"reason": "Timed out after 600000 ms", "count": 1, "outcomes": {"timeout": 1},
         "taskIds": ["t4"]}]


def test_hourly_buckets_use_local_hours(report: dict) -> None:
    tasks, failed = [0] * 24, [0] * 24
    for hour, count in ((0, 1), (9, 2), (14, 2), (20, 1), (23, 1)):
        tasks[hour] = count
    failed[14], failed[20] = 2, 1
    assert report["hourly"] == {"tasks": tasks, "failed": failed}


def test_comparison_with_previous_seven_days(report: dict) -> None:
    compare = report["comparison"]
    assert (compare["from"], compare["to"], compare["days"]) == ("2026-03-03", "2026-03-09", 7)
    expected_average = {
        "uptimePercent": (600 + 100 * 82800 / 86400) / 7, "downtimeSeconds": 3600 / 7,
        "restarts": 0, "crashes": 0, "tasks": 2, "completed": 13 / 7, "failed": 1 / 7,
        "retried": 1 / 7, "timedOut": 1 / 7, "successRate": 6.5 / 7,
        "medianMs": (6 * 20_000 + 320_000) / 7, "p95Ms": (6 * 30_000 + 600_000) / 7,
        "costUsd": 0.3, "pauses": 1 / 7, "pauseSeconds": 3600 / 7, "fullEpisodes": 0,
        "queuePeak": 8, "scheduleFired": 1, "scheduleSkipped": 0,
    }
    assert set(compare["average"]) == set(SUMMARY_KEYS)
    for key, value in expected_average.items():
        assert compare["average"][key] == pytest.approx(value, abs=1e-4), key
        today = report["summary"][key]
        assert compare["delta"][key] == pytest.approx(today - value, abs=2e-4), key
    assert compare["delta"]["queuePeak"] == 4
    assert compare["delta"]["scheduleFired"] == 3
    yesterday = compare["daily"][-1]
    assert yesterday["day"] == "2026-03-09"
    assert yesterday["uptimePercent"] == pytest.approx(95.8333)
    assert yesterday["pauseSeconds"] == 3600
    assert yesterday["queuePeak"] == 8
    assert yesterday["successRate"] == 0.5


def test_summary_of_the_day(report: dict) -> None:
    assert report["summary"] == {
        "uptimePercent": 97.9167, "downtimeSeconds": 1800, "restarts": 2, "crashes": 1,
        "tasks": 7, "completed": 4, "failed": 3, "retried": 3, "timedOut": 1,
        "successRate": 0.571429, "medianMs": 60_000, "p95Ms": 600_000, "costUsd": 2.55,
        "pauses": 3, "pauseSeconds": 8400, "fullEpisodes": 2, "queuePeak": 12,
        "scheduleFired": 4, "scheduleSkipped": 3}


def test_today_is_cut_at_now(layout: Layout) -> None:
    now = at(D, 12)
    report = build_report(layout, D, now, POLL, tz=TZ)
    assert report["window"]["end"] == "2026-03-10T12:00:00.000+02:00"
    assert report["uptime"]["percent"] == pytest.approx(100 * 41400 / 43200, abs=1e-4)
    assert report["tasks"]["total"] == 3
    assert report["pauses"]["seconds"] == 5400
    assert report["backpressure"]["fullSeconds"] == 1800
    assert report["restarts"]["total"] == 1


def test_a_day_without_data(layout: Layout) -> None:
    report = build_report(layout, date(2025, 1, 1), NOW, POLL, tz=TZ)
    assert report["hasData"] is False
    assert report["uptime"]["percent"] is None  # before the runner's first start: no uptime
    assert report["tasks"]["total"] == 0
    assert report["tasks"]["successRate"] is None
    assert report["durations"]["medianMs"] is None
    assert report["comparison"]["days"] == 0
    assert report["comparison"]["average"]["uptimePercent"] is None
    assert report["comparison"]["delta"]["tasks"] is None
    assert "# claude-runner daily report — 2025-01-01" in render_markdown(report)
    ElementTree.fromstring(render_svg(report))


def test_markdown_mentions_the_key_figures(report: dict) -> None:
    text = render_markdown(report)
    for needle in (
        "# claude-runner daily report — 2026-03-10",
        "![tasks per hour](2026-03-10.svg)",
        "| Uptime | 97.92 % | 99.40 % | -1.49 pt |",
        "| Success rate | 57.14 % | 92.86 % | -35.71 pt |",
        "| Cost | $2.55 | $0.30 | +$2.25 |",
        "| Median duration | 1m 00s |",
        "| p95 duration | 10m 00s |",
        "| Queue peak | 12 | 8 | +4 |",
        "| 2026-03-10 10:00:05 | 2026-03-10 10:30:05 | 30m 00s |",
        "Restarts: 2 (1 clean, 1 crash).",
        "| dev | 4 | 2 | $1.90 |",
        "3 pause(s), 2h 20m paused this day.",
        "queue peak 12",
        "| hourly | 3 | 3 | previous still queued ×2, queue full ×1 |",
        "| 2 | exit code 1: boom | t5, t6 |",
        "| 14:00 | 2 | 2 |",
        "Retried: 3 (t2, t4, t8).",
    ):
        assert needle in text, needle


def test_svg_chart_has_a_bar_pair_per_hour(report: dict) -> None:
    root = ElementTree.fromstring(render_svg(report))
    ns = "{http://www.w3.org/2000/svg}"
    bars = {(r.get("class"), int(r.get("data-hour"))): r for r in root.iter(f"{ns}rect")
            if r.get("class") in ("tasks", "failed")}
    assert len(bars) == 48
    assert bars[("tasks", 9)].get("data-value") == "2"
    assert bars[("failed", 14)].get("data-value") == "2"
    assert bars[("failed", 9)].get("data-value") == "0"
    assert float(bars[("tasks", 9)].get("height")) == pytest.approx(
        2 * float(bars[("tasks", 0)].get("height")))
    assert "2026-03-10" in root.find(f"{ns}title").text


def test_write_report_writes_three_files(layout: Layout) -> None:
    written = write_report(layout, D, NOW, POLL, tz=TZ)
    folder = layout.logs / "reports"
    assert written.markdown == folder / "2026-03-10.md"
    assert json.loads(written.json.read_text()) == json.loads(json.dumps(written.report))
    assert "![tasks per hour](2026-03-10.svg)" in written.markdown.read_text()
    ElementTree.fromstring(written.svg.read_text())
    assert sorted(p.name for p in folder.iterdir()) == [
        "2026-03-10.json", "2026-03-10.md", "2026-03-10.svg"]


def test_pause_spans_extend_expire_and_stay_open() -> None:
    def start(moment: datetime, until: datetime | None) -> Event:
        return Event(moment, "pause_start",
                     {"until": iso(until) if until else None, "reason": "limit"})

    now = at(D, 20)
    spans = pause_spans([
        start(at(D, 1), at(D, 2)),
        start(at(D, 1, 30), at(D, 3)),           # extends the open pause
        start(at(D, 5), at(D, 6)),               # the first ran out at 03:00 unended
        Event(at(D, 5, 45), "pause_end", {}),
        Event(at(D, 7), "pause_end", {}),        # no pause open: ignored
        start(at(D, 8), at(D, 8, 30)),
        Event(at(D, 8, 50), "pause_end", {}),    # written late: the pause ended at until
        start(at(D, 9), None),                   # no until, never ended: open until now
    ], now)
    assert [(s.start, s.end, s.open) for s in spans] == [
        (at(D, 1), at(D, 3), True), (at(D, 5), at(D, 5, 45), False),
        (at(D, 8), at(D, 8, 30), False), (at(D, 9), now, True)]


def test_full_spans_end_at_the_next_level_change() -> None:
    def level(moment: datetime, to: str) -> Event:
        return Event(moment, "level", {"to": to})

    spans = full_spans([level(at(D, 1), "full"), level(at(D, 1, 5), "full"),
                        level(at(D, 2), "ok"), level(at(D, 3), "busy"),
                        level(at(D, 4), "full")], at(D, 5))
    assert [(s.start, s.end) for s in spans] == [(at(D, 1), at(D, 2)), (at(D, 4), at(D, 5))]


def test_records_without_times_stay_on_their_file_day(tmp_path) -> None:
    root = Layout(tmp_path)
    file_record(root, D, {"id": "x", "status": "failed", "outcome": "invalid"})
    file_record(root, D, record("late", at(D + timedelta(days=1), 0, 5), 1000))
    by_day = load_records(root, ago(1), D, TZ)
    assert [r.id for r in by_day[D]] == ["x"]


def test_machine_zone_is_the_default(layout: Layout) -> None:
    report = build_report(layout, D, NOW, POLL)
    start = datetime.fromisoformat(report["window"]["start"])
    assert (start.date(), start.hour, start.minute) == (D, 0, 0)
    assert len(report["hourly"]["tasks"]) == 24


def test_a_daylight_saving_day_has_23_hours(tmp_path) -> None:
    zone = ZoneInfo("America/New_York")
    report = build_report(Layout(tmp_path), date(2026, 3, 8), NOW, POLL, tz=zone)
    assert report["window"]["seconds"] == 23 * 3600
    assert report["window"]["start"] == "2026-03-08T00:00:00.000-05:00"
    assert report["window"]["end"] == "2026-03-09T00:00:00.000-04:00"
