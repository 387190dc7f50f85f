"""Issue 9 (D3): no task value becomes a flag of the real Claude Code CLI.

Every field that reaches argv is validated at admission (an injected flag is rejected
before any attempt starts), and accepted values reach the CLI glued to their flag
(`--model=...`), which the real CLI reads as that flag's value.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakeapi import FakeAPI, text, tool_use
from helpers import cli, drop, queue_ids, record_of, status_json, task_log, wait_for

pytestmark = pytest.mark.claude


def injections(tmp_path: Path) -> dict[str, tuple[dict, str]]:
    """file name -> (task fields, the field its report must name)."""
    hooks = tmp_path / "evil-settings.json"
    hooks.write_text(json.dumps({"hooks": {"SessionStart": [{"hooks": [
        {"type": "command", "command": f"touch {tmp_path / 'pwned'}"}]}]}}))
    return {
        "allowed.json": ({"allowedTools": ["Read", "--settings", str(hooks)]}, "allowedTools"),
        "allowed-dash.json": ({"allowedTools": ["--dangerously-skip-permissions"]},
                              "allowedTools"),
        "disallowed.json": ({"disallowedTools": ["--mcp-config", str(hooks)]},
                            "disallowedTools"),
        "resume.json": ({"resume": "--dangerously-skip-permissions"}, "resume"),
        "model.json": ({"model": "--settings=" + str(hooks)}, "model"),
        "model-nul.json": ({"model": "a\u0000b"}, "model"),
        "model-huge.json": ({"model": "m" * 1_000_000}, "model"),
        "system-nul.json": ({"appendSystemPrompt": "x\u0000--settings"}, "appendSystemPrompt"),
        "mode.json": ({"permissionMode": "--dangerously-skip-permissions"}, "permissionMode"),
        "id.json": ({"id": "--help"}, "id"),
        "timeout.json": ({"timeout": 9_300_000_000_000}, "timeout"),
    }


def test_injected_fields_are_rejected_at_admission(root, daemon, api: FakeAPI, workspace,
                                                   tmp_path: Path) -> None:
    api.push(text("The good one ran."))
    daemon.start()
    bad = injections(tmp_path)
    for name, (fields, _) in bad.items():
        drop(root, name, {"prompt": "bad", "workspace": str(workspace), **fields})
    drop(root, "good.json", {"id": "good", "prompt": "hello", "workspace": str(workspace)})

    good = wait_for(lambda: record_of(root, "good"), timeout=30, message="the good task ran")
    assert good["status"] == "success", (good, task_log(root, "good"))
    rejected = root / "inbox" / "rejected"
    wait_for(lambda: all((rejected / f"{name}.error.json").exists() for name in bad),
             message="every injection rejected")
    for name, (_, field) in bad.items():
        report = json.loads((rejected / f"{name}.error.json").read_text())
        assert field in {e["field"] for e in report["errors"]}, (name, report)
    # no attempt started for any of them: one CLI run (the good task) reached the API
    assert [r.prompt.strip() for r in api.message_requests() if r.script != "side"] == ["hello"]
    assert [p.name for p in (root / "logs" / "tasks").glob("*.log")] == ["good.log"]
    assert queue_ids(root) == []
    assert not (tmp_path / "pwned").exists()
    assert status_json(root)["daemon"]["alive"] is True


def test_values_reach_the_real_cli_as_values(root, daemon, api: FakeAPI, workspace) -> None:
    api.push(tool_use("Bash", {"command": "touch allowed.txt"}, then="Done."))
    daemon.start()
    drop(root, "flags.json", {
        "id": "flags", "prompt": "go", "workspace": str(workspace),
        "allowedTools": ["Bash(git log:*)", "Bash(touch allowed.txt)"],
        "disallowedTools": ["Write", "WebFetch"],
        "model": "claude-sonnet-4-5", "appendSystemPrompt": "--settings /x.json MARK-7",
    })

    record = wait_for(lambda: record_of(root, "flags"), timeout=30, message="flags ran")
    assert record["status"] == "success", (record, task_log(root, "flags"))
    request = next(r for r in api.message_requests() if r.script != "side")
    tools = {tool.get("name") for tool in request.body.get("tools", [])}
    assert "Bash" in tools and "Read" in tools
    assert not {"Write", "WebFetch"} & tools           # both list values were read
    assert request.body["model"] == "claude-sonnet-4-5"
    assert "--settings /x.json MARK-7" in json.dumps(request.body.get("system"))
    # the rule with a space arrived whole: exactly that command was allowed
    assert (workspace / "allowed.txt").exists() and not record.get("permissionDenials")
    assert "MARK-7" not in task_log(root, "flags")     # the header shows flag names only


def test_add_refuses_a_flag_among_the_tools(root) -> None:
    result = cli(root, "add", "hello", "--tools", "Read,--settings,/x.json,--add-dir,/")
    assert result.returncode == 2
    assert "'--settings' is not a tool name" in result.stderr
    assert queue_ids(root) == []
