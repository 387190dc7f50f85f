from datetime import UTC, datetime

import pytest

from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, admit_fields, valid_id
from pipeline.domain.validation import validate

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


DEFAULTS = Settings()


def fields_of(task, settings=DEFAULTS):
    return [e.field for e in validate(task, settings)]


def test_a_minimal_task_is_valid():
    assert validate({"prompt": "do it"}, Settings()) == []


@pytest.mark.parametrize(("task", "field"), [
    ({}, "prompt"),
    ({"prompt": "  "}, "prompt"),
    ({"prompt": 3}, "prompt"),
    ({"prompt": "x", "id": "a/b"}, "id"),
    ({"prompt": "x", "id": "x" * 129}, "id"),
    ({"prompt": "x", "id": ".."}, "id"),
    ({"prompt": "x", "workspace": "relative/dir"}, "workspace"),
    ({"prompt": "x", "workspace": "/no/such/folder/here"}, "workspace"),
    ({"prompt": "x", "timeout": 0}, "timeout"),
    ({"prompt": "x", "timeout": "10"}, "timeout"),
    ({"prompt": "x", "timeout": True}, "timeout"),
    ({"prompt": "x", "autoApprove": "yes"}, "autoApprove"),
    ({"prompt": "x", "allowedTools": "Bash"}, "allowedTools"),
    ({"prompt": "x", "allowedTools": [1]}, "allowedTools"),
    ({"prompt": "x", "priority": "urgent"}, "priority"),
    ({"prompt": "x", "maxRetries": -1}, "maxRetries"),
    ({"prompt": "x", "maxTurns": 0}, "maxTurns"),
    ({"prompt": "x", "permissionMode": "yolo"}, "permissionMode"),
    ({"prompt": "x", "notBefore": "tomorrow"}, "notBefore"),
    ({"prompt": "x", "name": 5}, "name"),
])
def test_each_bad_field_is_named(task, field):
    assert fields_of(task) == [field]


def test_not_an_object():
    assert fields_of(["prompt"]) == ["(task)"]


def test_nulls_count_as_absent():
    assert validate({"prompt": "x", "allowedTools": None, "model": None}, Settings()) == []


def test_workspace_roots_are_enforced(tmp_path):
    inside = tmp_path / "a"
    inside.mkdir()
    settings = Settings(workspace_roots=(str(inside),))
    assert fields_of({"prompt": "x", "workspace": str(inside)}, settings) == []
    assert fields_of({"prompt": "x", "workspace": str(tmp_path)}, settings) == ["workspace"]


def test_auto_approve_can_be_forbidden():
    settings = Settings(allow_auto_approve=False)
    assert fields_of({"prompt": "x", "autoApprove": True}, settings) == ["autoApprove"]
    assert fields_of({"prompt": "x", "autoApprove": False}, settings) == []


def test_admission_assigns_id_and_created_at_and_keeps_unknown_fields():
    task = admit_fields({"prompt": "x", "custom": {"k": 1}}, NOW)
    assert valid_id(task.id) and task.created_at.startswith("2026-11-25T12:00:00")
    assert task.extra["custom"] == {"k": 1} and task.to_dict()["custom"] == {"k": 1}
    assert admit_fields({"prompt": "x", "id": "mine"}, NOW).id == "mine"


def test_generated_ids_are_unique():
    assert len({admit_fields({"prompt": "x"}, NOW).id for _ in range(500)}) == 500


def test_defaults_from_settings():
    settings = Settings(max_retries=4, default_timeout=1234)
    assert Task(id="t").max_retries_or(settings) == 4
    assert Task(id="t", max_retries=0).max_retries_or(settings) == 0
    assert Task(id="t").timeout_ms(settings) == 1234
    assert Task(id="t", timeout=5).timeout_ms(settings) == 5
