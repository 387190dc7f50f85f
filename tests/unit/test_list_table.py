"""`list` as a table cut to the terminal's width, and `show ID`."""

from pipeline.cli.table import duration, render_show, render_table
from pipeline.domain.attempt import Attempt
from pipeline.domain.record import Record

RECORD = {"id": "20261128-101500-abcd1234", "name": "fix the flaky test", "role": "executor",
          "outcome": "success", "startedAt": "2026-11-28T10:15:00+00:00", "durationMs": 95_000,
          "costUsd": 0.0123, "attempts": 2,
          "prompt": "Fix the failing test in tests/test_api.py; it times out under load " * 3}


def test_a_table_with_a_header_fits_80_columns_without_wrapping() -> None:
    lines = render_table("completed", [RECORD, {**RECORD, "id": "b", "costUsd": None}], 80)
    assert lines[0].split()[:3] == ["ID", "NAME/ROLE", "OUTCOME"]
    assert all(len(line) <= 80 for line in lines)
    assert "1m35s" in lines[1] and "$0.0123" in lines[1] and "fix the …" in lines[1]
    assert "fix the flaky test / executor" in render_table("completed", [RECORD], 120)[1]


def test_every_listing_has_columns_and_empty_ones_say_so() -> None:
    for which in ("queue", "running", "completed", "failed", "scheduled"):
        assert render_table(which, [], 80) == [f"({which} is empty)"]
        assert render_table(which, [RECORD, "odd entry"], 40)[0].startswith("ID")
    failed = render_table("failed", [{**RECORD, "error": "it went wrong"}], 200)
    assert failed[0].rstrip().endswith("ERROR") and failed[1].endswith("it went wrong")


def test_durations_read_well() -> None:
    assert [duration(x) for x in (None, 1500, 95_000, 4_000_000)] == ["-", "1.5s", "1m35s",
                                                                       "1h06m"]


def test_show_prints_fields_result_and_log_tail() -> None:
    lines = render_show(Record.from_dict({**RECORD, "result": "all green"}), "completed",
                        "line a\nline b\n")
    text = "\n".join(lines)
    assert lines[0] == "20261128-101500-abcd1234  (completed)"
    assert "outcome        success" in text and "result:\n  all green" in text
    assert text.endswith("log (last lines):\n  line a\n  line b")


def test_each_listing_reads_its_entries_as_the_runner_does() -> None:
    queued = {"id": "q1", "prompt": "p", "role": "coach", "attempts": 1,
              "notBefore": "2026-11-28T10:15:00+00:00", "someoneElses": {"kept": True}}
    line = render_table("queue", [queued], 120)[1]
    assert line.split()[:3] == ["q1", "coach", "1"] and " 11-28 " in line
    running = {**queued, "attempt": 3, "startedAt": "2026-11-28T10:15:00+00:00", "pid": 7}
    line = render_table("running", [running], 120)[1]
    assert line.startswith("q1") and " coach " in line and " 3 " in line
    spent = {**RECORD, "totalCostUsd": 1.5}  # a task's total over its attempts wins
    assert "$1.5000" in render_table("completed", [spent], 200)[1]
    assert "$0.0123" in render_table("completed", [RECORD], 200)[1]


def test_show_keeps_fields_the_runner_does_not_name() -> None:
    running = Attempt.from_dict({"id": "r1", "prompt": "go", "attempt": 2, "pid": 7,
                                 "startedAt": "2026-11-28T10:15:00+00:00",
                                 "lastError": "exit 1", "someoneElses": "kept"})
    text = "\n".join(render_show(running, "running", ""))
    assert text.startswith("r1  (running)")
    assert "  attempt        2" in text and "  pid            7" in text
    assert "  someoneElses   kept" in text and "lastError:\n  exit 1" in text


def test_a_schedule_is_on_or_off_by_the_one_enabled_rule() -> None:
    """`"enabled": "off"` never fires (scheduling.checks.is_enabled); the list says off."""
    rows = render_table("scheduled", [
        {"id": "a", "cron": "@daily", "prompt": "p"},
        {"id": "b", "cron": "@daily", "prompt": "p", "enabled": "off"},
        {"id": "c", "cron": "@daily", "prompt": "p", "enabled": False}], 120)
    on = {row.split()[0]: row.split()[1] for row in rows[1:]}
    assert on == {"a": "on", "b": "off", "c": "off"}
