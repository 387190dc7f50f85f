"""The seed's goals in the report: what counts as an optimisation, the evaluation file,
uptime and queue targets, and the weekly aggregation across a daylight-saving change and
an ISO-week boundary (Europe/Berlin, spring forward on Sunday 2026-03-29, the last day of
ISO week 2026-W13)."""

from __future__ import annotations

import subprocess
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from pipeline.domain.clock import iso
from pipeline.domain.record import Record
from pipeline.report import goals
from pipeline.report.build import build_report, render_markdown
from pipeline.report.weekly import WeekInputs, build_week, parse_week
from pipeline.report.weekly_render import render_week_markdown, render_week_svg
from pipeline.storage.jsonfile import append_line, dumps, write_atomic
from pipeline.storage.layout import Layout

BERLIN = ZoneInfo("Europe/Berlin")


def rec(task_id, end, *, ok=True, commits=None, subjects=None, kind=None, workspace=None):
    data = {"id": task_id, "prompt": "p", "status": "success" if ok else "failed",
            "outcome": "success" if ok else "error", "role": "opc-ceo-core",
            "startedAt": iso(end - timedelta(minutes=1)),
            "completedAt" if ok else "failedAt": iso(end)}
    if commits is not None:
        data["git"] = {"headBefore": "a" * 40, "headAfter": "b" * 40, "commits": commits,
                       "filesChanged": 1, "insertions": 1, "deletions": 0}
        if subjects is not None:
            data["git"]["subjects"] = subjects
    if kind:
        data["kind"] = kind
    if workspace:
        data["workspace"] = workspace
    return data


def file_record(layout, record):
    end = datetime.fromisoformat(record.get("completedAt") or record["failedAt"])
    append_line(layout.history / f"{end.astimezone(BERLIN).date()}.jsonl", record)


def test_what_counts_as_an_optimisation(tmp_path):
    end = datetime(2026, 3, 25, 12, tzinfo=BERLIN)
    records = [
        rec("commit", end, commits=1, subjects=["Speed up the parser"]),
        rec("kind", end, kind="optimisation"),
        rec("neither", end, commits=0, subjects=[]),
        rec("failed-with-commits", end, ok=False, commits=2, subjects=["Half done"]),
        rec("no-git", end),
    ]
    found = goals.optimisations([Record.from_dict(r) for r in records], tmp_path)
    assert [item["id"] for item in found] == ["commit", "kind"]
    assert found[0]["subjects"] == ["Speed up the parser"] and found[0]["commits"] == 1
    assert found[1]["subjects"] == [] and found[1]["commits"] == 0


def test_subjects_are_asked_of_git_when_the_record_has_none(tmp_path):
    def git(*args):
        return subprocess.run(["git", "-C", str(tmp_path), "-c", "user.name=t", "-c",
                               "user.email=t@t", *args], check=True, capture_output=True,
                              text=True).stdout.strip()

    git("init", "-q")
    git("commit", "-q", "--allow-empty", "-m", "base")
    before = git("rev-parse", "HEAD")
    git("commit", "-q", "--allow-empty", "-m", "Cache the index")
    record = rec("t", datetime(2026, 3, 25, tzinfo=BERLIN), commits=1, workspace=str(tmp_path))
    record["git"].update(headBefore=before, headAfter=git("rev-parse", "HEAD"))
    assert goals.commit_subjects(Record.from_dict(record), tmp_path) == ["Cache the index"]


def test_uptime_and_queue_goals():
    assert goals.uptime_goal(99.5, [100.0, None, 99.2, 99.5])["met"] is True
    assert goals.uptime_goal(99.5, [90.0, 99.5]) == {"target": 99.0, "value": 99.5,
                                                     "met": False, "last7Days": 94.75}
    assert goals.uptime_goal(None, [None])["met"] is None
    calm = {"queuePeak": None, "fullSeconds": 0, "fullEpisodes": 0}
    assert goals.queue_goal(calm, 10)["met"] is True
    assert goals.queue_goal({**calm, "queuePeak": 11, "fullSeconds": 60.0}, 10)["met"] is False
    assert goals.queue_goal({**calm, "queuePeak": 6}, 10)["met"] is True


def setup_week(tmp_path):
    layout = Layout(tmp_path / "root")
    workspace = tmp_path / "ws"
    (workspace / "docs" / "evaluations").mkdir(parents=True)
    (workspace / "docs" / "evaluations" / "2026-03-29.md").write_text("e", encoding="utf-8")
    layout.tasks.mkdir(parents=True)
    write_atomic(layout.scheduled, dumps({"tasks": [
        {"id": "opc-evaluation", "kind": "evaluation", "cron": "20 0 * * *", "prompt": "e",
         "workspace": str(workspace)}]}))
    # Sunday 23:30 in Berlin is still W13; Monday 00:30 is W14 though it is Sunday in UTC.
    file_record(layout, rec("sun", datetime(2026, 3, 29, 23, 30, tzinfo=BERLIN), commits=1,
                            subjects=["Sunday fix"]))
    file_record(layout, rec("mon", datetime(2026, 3, 30, 0, 30, tzinfo=BERLIN), commits=1,
                            subjects=["Monday fix"]))
    file_record(layout, rec("tue", datetime(2026, 3, 24, 9, 0, tzinfo=BERLIN),
                            kind="optimisation"))
    return layout


def test_daily_goals_section(tmp_path):
    layout = setup_week(tmp_path)
    now = datetime(2026, 4, 2, 12, tzinfo=BERLIN)
    report = build_report(layout, date(2026, 3, 29), now, 10.0, tz=BERLIN)
    got = report["goals"]
    assert set(got) == {"uptime", "evaluation", "optimisations", "queuePeak"}
    assert all({"target", "value", "met"} <= set(goal) for goal in got.values())
    assert got["evaluation"]["met"] is True
    assert got["optimisations"]["value"] == 2 and got["optimisations"]["met"] is True
    assert got["optimisations"]["week"] == "2026-W13"
    assert [i["subjects"] for i in got["optimisations"]["list"]] == [[], ["Sunday fix"]]
    assert report["window"]["seconds"] == 23 * 3600  # spring forward
    text = render_markdown(report)
    assert "## Goals" in text and "| Optimisations this ISO week | >= 2 per week | 2 (2026-W13)" \
        in text and "- sun [opc-ceo-core]: Sunday fix" in text
    monday = build_report(layout, date(2026, 3, 30), now, 10.0, tz=BERLIN)["goals"]
    assert monday["optimisations"]["value"] == 1 and monday["evaluation"]["met"] is False


def test_weekly_aggregation_across_dst_and_the_week_boundary(tmp_path):
    layout = setup_week(tmp_path)
    now = datetime(2026, 3, 31, 12, tzinfo=BERLIN)  # Tuesday of W14
    inputs = WeekInputs(layout, now, 10.0, BERLIN, 10)
    week13 = build_week(inputs, parse_week("2026-W13"))
    assert [row["day"] for row in week13["days"]] == [
        f"2026-03-{d}" for d in range(23, 30)]
    by_day = {row["day"]: row["goals"]["optimisations"]["value"] for row in week13["days"]}
    assert by_day["2026-03-23"] == 0 and by_day["2026-03-24"] == 1 and by_day["2026-03-29"] == 2
    assert week13["summary"]["optimisations"] == 2 and week13["summary"]["evaluations"] == 1
    week14 = build_week(inputs, parse_week("2026-W14"))
    assert [row["day"] for row in week14["days"]] == ["2026-03-30", "2026-03-31"]  # not later
    assert week14["summary"]["optimisations"] == 1
    assert [w["week"] for w in week14["trend"]] == ["2026-W11", "2026-W12", "2026-W13",
                                                     "2026-W14"]
    assert [w["optimisations"] for w in week14["trend"]] == [0, 0, 2, 1]
    assert "| 2026-W13 | 7 |" in render_week_markdown(week14)
    svg = render_week_svg(week14)
    assert svg.count('class="week"') == 16 and 'data-week="2026-W13"' in svg


def test_parse_week():
    assert parse_week("2026-W01") == date(2025, 12, 29)
    for bad in ("2026-13", "2026-W54", "W13"):
        try:
            parse_week(bad)
        except ValueError:
            continue
        raise AssertionError(bad)


def test_odd_git_facts_read_as_no_commits(tmp_path):
    end = datetime(2026, 3, 25, 12, tzinfo=BERLIN)
    odd = [{**rec("text", end), "git": "broken"}, {**rec("string", end), "git": {"commits": "3"}},
           {**rec("null", end, kind="optimisation"), "git": None}]
    records = [Record.from_dict(raw) for raw in odd]
    assert [goals.commit_subjects(r, tmp_path) for r in records] == [[], [], []]
    assert goals.optimisations(records, tmp_path) == [{
        "id": "null", "role": "opc-ceo-core", "kind": "optimisation",
        "completedAt": iso(end), "commits": 0, "subjects": []}]
