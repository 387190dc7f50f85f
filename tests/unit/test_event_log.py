"""The events log is an object passed in, not module state: its clock stamps the records,
its hooks and listeners are its own, and every emit site names its event by EventKind."""

from __future__ import annotations

import ast
import json
from datetime import UTC, datetime
from pathlib import Path

from pipeline.domain.clock import iso
from pipeline.storage import events
from pipeline.storage.events import EventKind, EventLog

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
PACKAGE = Path(__file__).resolve().parents[2] / "pipeline"


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_given_clock_stamps_each_record(tmp_path):
    log = EventLog(tmp_path / "events.jsonl", lambda: NOW)
    heard: list[dict] = []
    log.listen(heard.append)
    log.emit(EventKind.TASK_DONE, id="t1")
    assert lines(tmp_path / "events.jsonl") == [
        {"at": iso(NOW), "event": "task_done", "id": "t1"}]
    assert type(heard[0]["event"]) is str and heard[0]["event"] == "task_done"


def test_two_logs_share_neither_hooks_nor_listeners(tmp_path, monkeypatch):
    fired: list[list[str]] = []
    monkeypatch.setattr(events, "run_hook", lambda argv, timeout: fired.append(argv))
    first = EventLog(tmp_path / "a.jsonl", lambda: NOW, {"on_task_done": ("a", "{id}")}, 5)
    second = EventLog(tmp_path / "b.jsonl", lambda: NOW)
    heard_first: list[dict] = []
    heard_second: list[dict] = []
    first.listen(heard_first.append)
    second.listen(heard_second.append)
    second.emit(EventKind.TASK_DONE, id="t2")
    assert fired == [] and heard_first == [] and [r["id"] for r in heard_second] == ["t2"]
    first.emit(EventKind.TASK_DONE, id="t1")
    assert fired == [["a", "t1"]] and [r["id"] for r in heard_first] == ["t1"]
    assert [r["id"] for r in lines(tmp_path / "a.jsonl")] == ["t1"]
    assert [r["id"] for r in lines(tmp_path / "b.jsonl")] == ["t2"]


def test_new_hooks_keep_the_listeners_and_nothing_raises(tmp_path, monkeypatch):
    fired: list[tuple[list[str], float]] = []
    monkeypatch.setattr(events, "run_hook", lambda argv, timeout: fired.append((argv, timeout)))
    log = EventLog(tmp_path / "no" / "such" / "folder" / "events.jsonl", lambda: NOW,
                   (("on_pause", ("old",)), ("on_task_done", ())), 5)  # settings.hooks' shape
    (tmp_path / "no").write_text("a file, not a folder: the append fails")
    heard: list[dict] = []
    log.listen(lambda record: 1 / 0)  # a listener's bug is logged, not raised
    log.listen(heard.append)
    log.use_hooks({"on_pause": ("new", "{status}")}, 7)
    log.emit(EventKind.PAUSE_START, until="later")
    assert fired == [(["new", "paused"], 7)] and len(heard) == 1
    log.unlisten(heard.append)
    log.emit(EventKind.PAUSE_END)
    assert len(heard) == 1


def test_every_emit_names_its_event_by_kind():
    """`x.emit(EventKind.NAME, ...)` everywhere: no event name is spelled as a string."""
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr == "emit" and node.args
                    and isinstance(node.args[0], ast.Constant)):
                offenders.append(f"{path.relative_to(PACKAGE)}:{node.lineno}")
    assert offenders == []
    assert {str(kind) for kind in EventKind} >= set(events.HOOK_EVENTS)


def test_commands_build_their_log_with_runner_toml_s_hooks(tmp_path, monkeypatch):
    """`cancel` (also the dashboard's button) and `pause`/`resume` run the hooks as the daemon
    would: the CLI builds its EventLog from the settings (no process-wide configure)."""
    from argparse import Namespace

    from pipeline.cli.main import dispatch
    from pipeline.cli.queue import cancel_task
    from pipeline.domain.settings import Settings
    from pipeline.storage.layout import Layout
    from pipeline.storage.queue import TaskQueue

    fired: list[list[str]] = []
    monkeypatch.setattr(events, "run_hook", lambda argv, timeout: fired.append(argv))
    layout = Layout(tmp_path)
    layout.ensure()
    settings = Settings(hooks=(("on_task_cancelled", ("cancelled", "{id}")),
                               ("on_pause", ("pause", "{status}"))))
    TaskQueue(layout, settings).enqueue([{"id": "a", "prompt": "p"}], NOW)
    assert cancel_task(layout, settings, "a").ok
    dispatch(Namespace(command="pause", until=None, reason=None), layout, settings)
    dispatch(Namespace(command="resume"), layout, settings)
    assert fired == [["cancelled", "a"], ["pause", "paused"], ["pause", "resumed"]]
    assert [r["event"] for r in lines(layout.events)] == ["task_cancelled", "pause_start",
                                                           "pause_end"]
