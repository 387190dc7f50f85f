"""Schedules are validated like inbox tasks (issue 9 D4, issue 11 item 2): an invalid one
gets its `error` and never fires, and a copy is validated before it can start."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from pipeline.daemon.loop import Loop
from pipeline.domain.paths import foreign_path_problem
from pipeline.domain.schedule import schedule_entries
from pipeline.domain.settings import Settings
from pipeline.scheduling import checks
from pipeline.scheduling.plan import plan
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import JsonFile
from pipeline.storage.layout import Layout

NOW = datetime(2026, 3, 1, 10, 0, 5, tzinfo=UTC)


def due(**fields) -> dict:
    """A schedule whose slot (10:00) is due at NOW."""
    return {"id": "coach", "cron": "0 * * * *", "timezone": "UTC", "prompt": "plan",
            "lastRun": "2026-03-01T09:00:00+00:00", "nextRun": "2026-03-01T10:00:00+00:00",
            **fields}


@pytest.mark.parametrize(("fields", "settings", "expected"), [
    ({"workspace": "E:\\workspaces\\OPC-CEO"}, Settings(), "is a Windows path"),
    ({"workspace": "/path/to/your/project"}, Settings(), "folder does not exist"),
    ({"workspace": "/tmp"}, Settings(workspace_roots=("/srv",)), "outside the allowed"),
    ({"autoApprove": True}, Settings(allow_auto_approve=False), "allow_auto_approve"),
    ({"allowedTools": "Read"}, Settings(), "allowedTools"),
])
def test_an_invalid_task_field_is_the_schedules_error_and_it_does_not_fire(
        fields, settings, expected) -> None:
    [decision] = plan(schedule_entries([due(**fields)]), NOW, set(), False,
                      task_problem=lambda task: checks.copy_problem(task, settings))
    assert decision.fire is None
    assert expected in decision.changes["error"]


def test_a_valid_schedule_fires_and_a_fixed_one_loses_its_error(tmp_path: Path) -> None:
    def problem(task: dict) -> str | None:
        return checks.copy_problem(task, Settings())

    [decision] = plan(schedule_entries([due(workspace=str(tmp_path), error="old")]), NOW,
                      set(), False, task_problem=problem)
    assert decision.fire is not None and decision.fire.workspace == str(tmp_path)
    assert "error" in decision.changes  # REMOVE


def test_paths_of_the_other_family_of_systems_are_named() -> None:
    assert "Windows path" in foreign_path_problem("E:\\workspaces\\OPC-CEO", windows=False)
    assert "Windows path" in foreign_path_problem("\\\\server\\share", windows=False)
    assert "POSIX path" in foreign_path_problem("/home/me/project", windows=True)
    assert foreign_path_problem("/home/me/project", windows=False) is None
    assert foreign_path_problem("C:\\work", windows=True) is None


def test_a_copy_is_validated_before_it_can_start(tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """Even when the copy slips past the schedule's own check (here: the check is
    disabled), the tick that enqueued it sweeps it to failed.json before the start."""
    monkeypatch.setattr(checks, "copy_problem", lambda task, settings: None)
    monkeypatch.setattr("pipeline.stages.schedule.copy_problem", lambda task, settings: None)
    layout = Layout(tmp_path)
    layout.ensure()
    JsonFile(layout.scheduled, "tasks").save({"tasks": [due(autoApprove=True)]})
    runner = Loop(layout, Settings(allow_auto_approve=False), post=lambda signal: None,
                  events=EventLog(layout.events, lambda: NOW))
    runner.tick(NOW + timedelta(seconds=1))
    assert runner.slot is None and runner.entry is None
    [record] = JsonFile(layout.failed, "list").items()
    assert record["scheduledId"] == "coach" and record["outcome"] == "invalid"
    assert "allow_auto_approve" in record["error"]
