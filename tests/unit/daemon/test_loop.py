"""The loop in-process: a fake slot, a list as the signal sink, a fixed clock.

`Loop.tick(now)` is walked through time by hand; the fake execution never starts a
process, so each test says exactly how the attempt ended and when.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from pipeline.daemon.loop import Loop
from pipeline.daemon.sources import Signal
from pipeline.domain.attempt import AttemptEnd
from pipeline.domain.settings import Settings
from pipeline.execution.agent_process import Launch
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import JsonFile, dumps, write_atomic
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


@dataclass
class FakeExecution:
    launch: Launch
    on_end: Any
    on_progress: Any = None
    stopped: list[str] = field(default_factory=list)
    stop_reason: str | None = None
    git_before: Any = None  # no git workspace here

    def start(self) -> int:
        return 4_000_000  # no such process: nothing here ever signals a real one

    def stop(self, reason: str) -> None:
        self.stopped.append(reason)
        self.stop_reason = self.stop_reason or reason


class LoopUnderTest:
    """A Loop with a fake slot; `end()` delivers the running attempt's end as the waiter
    thread would (a `finished` signal), and `tick()` runs the loop at a given time."""

    def __init__(self, root, **settings: Any) -> None:
        self.layout = Layout(root)
        self.layout.ensure()
        self.signals: list[Signal] = []
        self.slots: list[FakeExecution] = []
        self.loop_ = Loop(self.layout, Settings(**settings), self.signals.append,
                             execution_factory=self._slot,
                             events=EventLog(self.layout.events, lambda: T0))

    def _slot(self, launch, on_end, on_progress=None) -> FakeExecution:
        self.slots.append(FakeExecution(launch, on_end, on_progress))
        return self.slots[-1]

    def add(self, task_id: str, **fields: Any) -> None:
        TaskQueue(self.layout, self.loop_.settings).enqueue(
            [{"id": task_id, "prompt": f"do {task_id}", **fields}], T0)

    def tick(self, now: datetime) -> datetime | None:
        return self.loop_.tick(now)

    def end(self, now: datetime, code: int = 0, output: str = "", stop: str | None = None,
            timed_out: bool = False) -> None:
        slot = self.slots[-1]
        slot.on_end(AttemptEnd(code, timed_out, stop or slot.stop_reason, output))
        for signal in self.signals:
            self.loop_.note(signal, now)
        self.signals.clear()

    def running(self) -> dict[str, Any]:
        return JsonFile(self.layout.running).load()

    def queue_ids(self) -> list[str]:
        return [task.id for task in TaskQueue(self.layout, self.loop_.settings).tasks()]

    def records(self, name: str) -> list[dict[str, Any]]:
        return JsonFile(getattr(self.layout, name), "list").items()


def result(**fields: Any) -> str:
    base = {"type": "result", "subtype": "success", "is_error": False, "result": "done",
            "session_id": "s-1", "num_turns": 2, "total_cost_usd": 0.01,
            "permission_denials": []}
    return json.dumps({**base, **fields})


@pytest.fixture
def loop(tmp_path):
    return LoopUnderTest(tmp_path, retry_delay=30, max_retries=2)


def test_a_task_runs_and_is_archived_once(loop):
    loop.add("a")
    loop.tick(T0)
    assert loop.running()["id"] == "a" and loop.queue_ids() == []
    assert loop.slots[0].launch.argv[0] == "claude" and loop.slots[0].launch.prompt == "do a"
    loop.end(T0 + timedelta(seconds=5), output=result())
    loop.tick(T0 + timedelta(seconds=5))
    [record] = loop.records("completed")
    assert record["id"] == "a" and record["outcome"] == "success" and record["attempts"] == 1
    assert record["durationMs"] == 5000 and loop.running() == {}


def test_one_task_at_a_time(loop):
    loop.add("a")
    loop.add("b")
    loop.tick(T0)
    loop.tick(T0 + timedelta(seconds=1))
    assert len(loop.slots) == 1 and loop.queue_ids() == ["b"]  # looked, and waited
    loop.end(T0 + timedelta(seconds=2), output=result())
    loop.tick(T0 + timedelta(seconds=2))
    assert len(loop.slots) == 2 and loop.running()["id"] == "b"


def test_a_failed_attempt_waits_for_its_retry_time(loop):
    loop.add("a")
    loop.tick(T0)
    loop.end(T0, code=1, output=result(is_error=True, api_error_status=500, result="API 500"))
    wake = loop.tick(T0)
    [task] = TaskQueue(loop.layout, loop.loop_.settings).tasks()
    assert task.attempts == 1 and task.last_error == "API error 500: API 500"
    assert wake == T0 + timedelta(seconds=30) and len(loop.slots) == 1  # not yet
    loop.tick(T0 + timedelta(seconds=29))
    assert len(loop.slots) == 1 and loop.running() == {}
    loop.tick(T0 + timedelta(seconds=30))
    assert len(loop.slots) == 2 and loop.running()["attempt"] == 2


def test_a_usage_limit_pauses_all_runs_until_the_reset(loop):
    reset = T0 + timedelta(hours=2)
    loop.add("a")
    loop.add("b")
    loop.tick(T0)
    loop.end(T0, code=1, output=result(
        is_error=True, result=f"Claude AI usage limit reached|{int(reset.timestamp())}"))
    wake = loop.tick(T0 + timedelta(seconds=1))
    paused_until = loop.loop_.queue.state.paused_until()
    assert paused_until is not None and paused_until >= reset and wake == paused_until
    assert loop.queue_ids() == ["a", "b"] and len(loop.slots) == 1  # kept at the head
    assert TaskQueue(loop.layout, loop.loop_.settings).tasks()[0].attempts_made == 0
    loop.tick(paused_until - timedelta(seconds=1))
    assert len(loop.slots) == 1
    loop.tick(paused_until)
    assert len(loop.slots) == 2 and loop.running()["id"] == "a"


def test_cancel_during_a_run_ends_it_and_archives_it_as_cancelled(loop):
    loop.add("a")
    loop.tick(T0)
    (loop.layout.cancel_requests / "a").touch()
    loop.tick(T0 + timedelta(seconds=1))
    assert loop.slots[0].stopped == ["cancel"]
    loop.end(T0 + timedelta(seconds=2), code=-15)
    loop.tick(T0 + timedelta(seconds=2))
    [record] = loop.records("failed")
    assert record["outcome"] == "cancelled" and loop.queue_ids() == []
    assert not (loop.layout.cancel_requests / "a").exists()


def test_a_silent_exit_is_held_then_settled_as_a_stop_when_the_runner_stops(loop):
    loop.add("a")
    loop.tick(T0)
    loop.end(T0, code=0, output="")  # what claude -p does on PM2's SIGINT
    wake = loop.tick(T0)
    assert loop.running()["id"] == "a" and wake is not None and wake > T0  # held, not judged
    loop.loop_.begin_stop()
    loop.tick(T0 + timedelta(milliseconds=200))
    [task] = TaskQueue(loop.layout, loop.loop_.settings).tasks()
    assert task.id == "a" and task.attempts_made == 0  # requeued, not counted
    assert loop.records("failed") == [] and loop.running() == {}


def test_a_silent_exit_without_a_stop_is_a_failed_attempt_after_the_settle_time(loop):
    loop.add("a")
    loop.tick(T0)
    loop.end(T0, code=0, output="")
    wake = loop.tick(T0)
    loop.tick(wake)
    [task] = TaskQueue(loop.layout, loop.loop_.settings).tasks()
    assert task.attempts == 1 and "without a result" in task.last_error


def test_a_damaged_list_file_stalls_nothing_and_loses_no_record(loop):
    loop.add("a")
    loop.add("b")
    loop.tick(T0)
    loop.layout.completed.write_text("{damaged")
    loop.end(T0, output=result())
    loop.tick(T0 + timedelta(seconds=1))
    assert loop.layout.completed.read_text() == "{damaged"  # never overwritten
    pending = (loop.layout.tasks / "pending-records.jsonl").read_text()
    assert '"id":"a"' in pending.replace(" ", "")  # the record is kept...
    assert loop.running()["id"] == "b"  # ...and the queue moved on
    loop.layout.completed.write_text('{"list": []}')
    loop.end(T0 + timedelta(seconds=2), output=result())
    loop.tick(T0 + timedelta(seconds=2))
    assert [r["id"] for r in loop.records("completed")] == ["a", "b"]
    assert not (loop.layout.tasks / "pending-records.jsonl").exists()
    assert len(loop.slots) == 2  # nothing ran twice


def test_an_end_that_cannot_be_written_at_all_keeps_the_task_named(loop, monkeypatch):
    loop.add("a")
    loop.tick(T0)

    def full_disk(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(loop.loop_.archive.history, "append", full_disk)
    loop.end(T0, output=result())
    loop.tick(T0 + timedelta(seconds=1))
    assert loop.running()["id"] == "a"  # still named: nothing lost
    monkeypatch.undo()
    loop.tick(T0 + timedelta(seconds=2))
    assert [r["id"] for r in loop.records("completed")] == ["a"] and loop.running() == {}
    assert len(loop.slots) == 1  # the task did not run again


def test_a_running_entry_with_an_unusable_id_is_archived_not_dropped(tmp_path):
    """running.json written by hand (or by an older runner) with an id no task may have: at
    start its task is archived as invalid with its prompt, and running.json is cleared."""
    from pipeline.daemon.startup import recover_at_start

    loop = LoopUnderTest(tmp_path)
    entry = dumps({"id": "nightly report", "prompt": "hello", "attempt": 1,
                   "startedAt": "2026-11-25T11:00:00Z"})
    write_atomic(loop.layout.running, entry)
    recover_at_start(loop.layout, loop.loop_, loop.loop_.settings, T0)
    write_atomic(loop.layout.running, entry)  # as a crash before the clear would leave it
    recover_at_start(loop.layout, loop.loop_, loop.loop_.settings, T0)
    [record] = JsonFile(loop.layout.failed, "list").items()  # archived once
    assert record["outcome"] == "invalid" and record["prompt"] == "hello"
    assert "nightly report" in record["error"] and record["id"] != "nightly report"
    assert JsonFile(loop.layout.running).load() == {}


def test_a_requeued_task_does_not_carry_the_running_entrys_leftovers(loop):
    """An older runner wrote "pid": null and "sessionId": null before the spawn; after a
    crash those keys must not travel back into queue.json with the task."""
    write_atomic(loop.layout.running, dumps({"id": "a", "prompt": "p", "attempt": 1,
                                             "startedAt": "2026-11-25T11:00:00Z",
                                             "pid": None, "sessionId": None, "custom": 1}))
    from pipeline.daemon.startup import recover_at_start

    recover_at_start(loop.layout, loop.loop_, loop.loop_.settings, T0)
    [queued] = JsonFile(loop.layout.queue, "list").items()
    assert queued["id"] == "a" and queued["custom"] == 1 and queued["attempts"] == 1
    assert not {"pid", "sessionId", "startedAt", "attempt"} & set(queued)
