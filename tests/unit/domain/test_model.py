"""The typed model at the boundary: JSON in, a value out, the same JSON back."""

from __future__ import annotations

import pytest

from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome, Status
from pipeline.domain.record import Record, records_in
from pipeline.domain.task import NotATask, Task, fresh

RAW = {"id": "t1", "prompt": "do it", "priority": "high", "allowedTools": ["Read"],
       "custom": {"nested": [1, 2]}, "name": None, "timeout": "soon", "attempts": 2}


def test_a_task_round_trips_with_unknown_fields_nulls_and_odd_values_untouched():
    task = Task.from_dict(RAW)
    assert task.high and task.allowed_tools == ("Read",) and task.attempts_made == 2
    assert task.timeout is None and task.extra["timeout"] == "soon"  # did not fit: kept
    assert task.name is None and "name" in task.extra                # explicit null: kept
    assert task.to_dict() == RAW


def test_known_fields_come_first_and_win_over_what_the_file_held():
    task = Task.from_dict({"zzz": 1, "id": "t1", "prompt": "p", "timeout": "soon"})
    from dataclasses import replace
    written = replace(task, timeout=5).to_dict()
    assert list(written)[:2] == ["id", "prompt"] and written["timeout"] == 5
    assert written["zzz"] == 1


@pytest.mark.parametrize("raw", [None, [], "t1", {"prompt": "p"}, {"id": "-x", "prompt": "p"}])
def test_what_has_no_usable_id_is_not_a_task(raw):
    with pytest.raises(NotATask):
        Task.from_dict(raw)


def test_the_running_entry_splits_the_attempt_from_the_task():
    raw = {**RAW, "startedAt": "2026-11-25T12:00:00+00:00", "attempt": 3, "pid": 42,
           "attemptId": "abc"}
    attempt = Attempt.from_dict(raw)
    assert (attempt.number, attempt.pid, attempt.id) == (3, 42, "t1")
    assert "pid" not in attempt.task.to_dict() and attempt.to_dict() == raw


def test_a_record_knows_its_outcome_and_turns_back_into_a_fresh_task():
    raw = {**RAW, "status": "failed", "outcome": "timeout", "failedAt": "2026-11-25T12:00:00Z",
           "error": "too slow", "costUsd": 0.5, "totalCostUsd": 1.5, "notBefore": "x"}
    record = Record.from_dict(raw)
    assert record.outcome is Outcome.TIMEOUT and not record.succeeded
    assert record.ended_at == "2026-11-25T12:00:00Z" and record.to_dict() == raw
    again = record.as_task().to_dict()
    assert again["attempts"] == 0 and "totalCostUsd" not in again and "notBefore" not in again
    assert again["custom"] == RAW["custom"]


def test_an_unknown_outcome_is_kept_but_not_believed():
    record = Record.from_dict({"id": "t", "prompt": "p", "outcome": "exploded"})
    assert record.outcome is None and record.to_dict()["outcome"] == "exploded"


def test_records_in_skips_what_is_not_a_record():
    assert [r.id for r in records_in([{"id": "a"}, 7, {"x": 1}, {"id": "b"}])] == ["a", "b"]


def test_status_follows_the_outcome():
    assert [Status.of(o) for o in (Outcome.SUCCESS, Outcome.ERROR)] == ["success", "failed"]


def test_fresh_forgets_earlier_attempts():
    task = Task(id="t", prompt="p", attempts=3, not_before="x", last_error="e",
                resume_session="s", total_cost_usd=2.0)
    assert fresh(task).to_dict() == {"id": "t", "prompt": "p", "attempts": 0}


def test_a_git_baseline_without_a_head_still_fits():
    task = Task.from_dict({"id": "t", "prompt": "p", "gitBaseline": [None, "abc"]})
    assert task.git_baseline == (None, "abc") and task.to_dict()["gitBaseline"] == [None, "abc"]
def test_the_report_fields_account_and_kind_round_trip():
    raw = {"id": "t", "prompt": "p", "kind": "optimisation", "status": "success",
           "account": "alice", "git": {"commits": 1}}
    record = Record.from_dict(raw)
    assert (record.account, record.task.kind) == ("alice", "optimisation")
    assert record.to_dict() == raw and record.task.extra == {"git": {"commits": 1}}
    odd = {"id": "t", "prompt": "p", "kind": 3, "account": None}
    assert Record.from_dict(odd).to_dict() == odd and Record.from_dict(odd).account is None


@pytest.mark.parametrize("raw", [{"id": "x", "prompt": {"text": "do it"}}, {"id": "x"},
                                 {"id": "x", "prompt": ""}, {"id": "x", "prompt": None}])
def test_a_prompt_that_is_odd_or_missing_comes_back_as_it_was(raw):
    """An invalid entry is archived with what it held: never a made-up "prompt": ""."""
    assert Task.from_dict(raw).to_dict() == raw


def test_what_an_attempt_reported_round_trips_into_its_record():
    from pipeline.domain.attempt import RunFacts

    raw = {"result": "done", "costUsd": 0.5, "numTurns": "three", "git": {"commits": 2},
           "streamDenials": 1, "exitCode": 0, "somethingNew": [1]}
    facts = RunFacts.from_dict(raw)
    assert facts.cost_usd == 0.5 and facts.num_turns is None and facts.git == {"commits": 2}
    assert facts.to_dict() == raw


def test_a_value_read_from_json_equals_the_one_built_in_code():
    """fields.build sets only the fields the object holds; the rest are the defaults."""
    read = Task.from_dict({"id": "t", "prompt": "p", "timeout": 5, "odd": 1})
    assert read == Task(id="t", prompt="p", timeout=5, extra={"odd": 1})
    assert read.model is None and read.attempts_made == 0 and "timeout=5" in repr(read)
    from dataclasses import replace
    assert replace(read, model="m").to_dict() == {"id": "t", "prompt": "p", "timeout": 5,
                                                   "model": "m", "odd": 1}
