"""Issue 9 (D2 D16 D17): a failing first tick does not end the loop; a dead loop thread
makes `run` exit non-zero; a wedge is logged once; tracebacks carry no local values."""

import signal
import threading
import time
from pathlib import Path

import pytest
from loguru import logger

from pipeline import log
from pipeline.daemon.daemon import EXIT_LOOP_DIED, EXIT_OK, Daemon
from pipeline.daemon.loop import Loop
from pipeline.daemon.sources import Signal
from pipeline.domain.settings import Settings
from pipeline.storage import jsonfile
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import JsonFile, read_lines
from pipeline.storage.layout import Layout


@pytest.fixture
def daemon(tmp_path: Path) -> Daemon:
    layout = Layout(tmp_path)
    layout.ensure()
    log.setup(layout)
    yield Daemon(layout, Settings(poll_interval=0.05))
    logger.remove()


def test_a_first_tick_that_raises_does_not_end_the_loop(daemon: Daemon, monkeypatch) -> None:
    calls = []

    def wedged(self: Loop, now: object) -> None:
        calls.append(now)
        if len(calls) == 3:
            daemon.signals.put(Signal("stop", payload="SIGTERM"))
        raise RuntimeError("poison")

    monkeypatch.setattr(Loop, "tick", wedged)
    assert daemon.serve() == EXIT_OK
    assert len(calls) >= 3  # the loop went on after the first tick failed
    state = JsonFile(daemon.layout.state).load()
    assert state["tickAt"] == state["startedAt"]  # no tick ever completed: status can tell
    text = daemon.layout.runner_log.read_text()
    assert sum("unexpected error in wedged" in line for line in text.splitlines()) == 1


def test_a_signal_another_thread_took_still_reaches_the_main_thread(daemon: Daemon,
                                                                     monkeypatch) -> None:
    """The kernel may hand a process's SIGTERM/SIGHUP to any thread; Python runs the handler
    on the main thread only, so a main thread asleep in join() must wake up to run it."""
    monkeypatch.setattr(jsonfile, "_stopping", threading.Event())  # SIGTERM sets it: ours only
    def send_to_this_thread() -> None:
        deadline = time.monotonic() + 10
        while daemon.pipeline_loop.ticked_at is None and time.monotonic() < deadline:
            time.sleep(0.01)  # the handlers are in place once the loop has ticked
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)  # not the main thread
        while not daemon.pipeline_loop.stopping and time.monotonic() < deadline:
            time.sleep(0.01)
        daemon.signals.put(Signal("stop", payload="never handled"))  # no hang if it fails

    threading.Thread(target=send_to_this_thread, daemon=True).start()
    assert daemon.serve() == EXIT_OK
    stops = [e for e in read_lines(daemon.layout.events) if e["event"] == "daemon_stop"]
    assert [e["reason"] for e in stops] == ["SIGTERM"]


def test_a_dead_loop_thread_makes_run_exit_non_zero(daemon: Daemon, monkeypatch) -> None:
    def broken(self: Daemon, wake: object) -> str:
        raise RuntimeError("a bug outside every guard")

    monkeypatch.setattr(Daemon, "_run_until_stopped", broken)
    assert daemon.serve() == EXIT_LOOP_DIED


def test_tracebacks_carry_no_local_values(daemon: Daemon) -> None:
    def fails(task: dict) -> None:
        raise ValueError("boom")

    secret = "-".join(["TOP", "SECRET", "PROMPT"])  # not in any source line of the traceback
    try:
        fails({"prompt": secret})
    except ValueError:
        logger.exception("failed")
    text = daemon.layout.runner_log.read_text()
    assert "ValueError: boom" in text and secret not in text


def test_a_queued_task_that_cannot_be_started_is_parked(tmp_path: Path, monkeypatch) -> None:
    from datetime import UTC, datetime

    from pipeline.stages import run
    from pipeline.storage.queue import TaskQueue

    layout = Layout(tmp_path)
    layout.ensure()
    now = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
    TaskQueue(layout, Settings()).enqueue([{"id": "poison", "prompt": "p"}], now)

    def broken(task: dict, moment: datetime, settings: object) -> dict:
        raise TypeError("cannot build its running entry")

    monkeypatch.setattr(run, "entry_for", broken)
    runner = Loop(layout, Settings(), lambda signal: None,
                  events=EventLog(layout.events, lambda: now))
    runner.tick(now)

    failed = JsonFile(layout.failed, "list").items()
    assert [(r["id"], r["outcome"]) for r in failed] == [("poison", "error")]
    assert "TypeError: cannot build its running entry" in failed[0]["error"]
    assert TaskQueue(layout, Settings()).tasks() == []
    assert runner.ticked_at == now  # the tick went on to the end
