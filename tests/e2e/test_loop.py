"""The self-evolution loop end to end: the real Claude Code CLI against the fake Messages
API, in a temporary git workspace set up by `claude-runner init --enable`.

The coach's scheduled copy fires and its scripted Bash calls are the skill's commands
(`claude-runner queue check --json`, `claude-runner add ... --role opc-ceo-core`); the task
it adds runs, writes a file and commits; the evaluation schedule writes its file; the day's
report counts that one optimisation with its commit subject. Then, with the queue held
above the high watermark, the coach's `add` exits 75 and adds nothing, and the report's queue
goal shows the peak of 11 as not met.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fakeapi import tool_use
from helpers import append_to_queue, cli, read_json, record_of, wait_for, write_json

from pipeline.demo.run import make_project

pytestmark = pytest.mark.claude

TIMEOUT = 45.0
BIN = Path(sys.executable).parent  # where `claude-runner` is installed
SUBJECT = "Add the project notes"


def git(workspace: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(workspace), *args], check=True,
                          capture_output=True, text=True).stdout.strip()


def edit_schedules(root: Path, change) -> None:  # noqa: ANN001
    path = root / "tasks" / "scheduled.json"
    data = read_json(path)
    for schedule in data["tasks"]:
        change(schedule)
    write_json(path, data)


def only_the_coach_fires_now(schedule: dict) -> None:
    """The coach planning schedule last fired two slots ago, so its missed slot fires at
    start; the others stay switched off until the test runs them by hand."""
    if schedule["id"] == "opc-coach-planning":
        slot = datetime.now().astimezone().replace(minute=0, second=0, microsecond=0)
        schedule["lastRun"] = (slot - timedelta(hours=2)).isoformat()
    else:
        schedule["enabled"] = False


def archived(root: Path, daemon, predicate, what: str) -> dict:  # noqa: ANN001
    def find():
        for name in ("completed", "failed"):
            for item in (read_json(root / "tasks" / f"{name}.json") or {"list": []})["list"]:
                if predicate(item):
                    return item
        return None

    try:
        return wait_for(find, timeout=TIMEOUT, message=what)
    except AssertionError as failure:
        raise AssertionError(f"{failure}\n--- daemon:\n{daemon.output()}") from None


def tool_results(api) -> list[str]:  # noqa: ANN001
    """The text of every tool_result the CLI sent back, in order."""
    found = []
    for request in api.message_requests():
        for message in request.body.get("messages", [])[-1:]:
            content = message.get("content")
            for block in content if isinstance(content, list) else []:
                if block.get("type") == "tool_result":
                    inner = block.get("content")
                    found.append(json.dumps(inner) if not isinstance(inner, str) else inner)
    return found


def test_the_loop_closes_and_respects_a_full_queue(root, configure, daemon, api, workspace,
                                                   capsys) -> None:
    make_project(workspace)
    agent_env = {"CLAUDE_RUNNER_ROOT": str(root),
                 "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', os.defpath)}"}
    pairs = ", ".join(f"{key} = {json.dumps(value)}" for key, value in agent_env.items())
    configure(f"[agent]\nenv = {{ {pairs} }}\n")
    setup = cli(root, "init", "--workspace", str(workspace), "--enable")
    assert setup.returncode == 0, setup.stderr
    edit_schedules(root, only_the_coach_fires_now)
    add = (f'claude-runner add "Write NOTES.md and commit it" --role opc-ceo-core '
           f"--name notes -w {workspace} --tools Read,Edit,Write,Bash")
    api.push(
        tool_use("Bash", {"command": "claude-runner queue check --json"}, then=None),
        tool_use("Bash", {"command": add}, then="Planned one task."),
        tool_use("Write", {"file_path": str(workspace / "NOTES.md"),
                           "content": "Notes written by the executor.\n"}, then=None),
        tool_use("Bash", {"command": f"git add NOTES.md && git commit -qm '{SUBJECT}'"},
                 then="Committed."),
    )
    daemon.start()

    coach = archived(root, daemon, lambda r: r.get("scheduledId") == "opc-coach-planning",
                     "the coach's scheduled copy")
    assert coach["status"] == "success", coach
    assert coach["role"] == "ceo-coach" and "{date}" not in coach["prompt"]
    assert datetime.now().date().isoformat() in coach["prompt"]
    results = tool_results(api)
    assert '"level": "ok"' in results[0] or '"level":"ok"' in results[0], results
    executor = archived(root, daemon, lambda r: r.get("name") == "notes", "the executor task")
    assert executor["status"] == "success", executor
    assert executor["role"] == "opc-ceo-core"
    assert executor["git"]["commits"] == 1 and executor["git"]["subjects"] == [SUBJECT]
    assert git(workspace, "log", "-1", "--format=%s") == SUBJECT

    today = datetime.now().astimezone().date().isoformat()
    evaluation = workspace / "docs" / "evaluations" / f"{today}.md"
    api.push(tool_use("Write", {"file_path": str(evaluation),
                                "content": "# Evaluation\n\nNext: keep the notes short.\n"},
                      then="Evaluation written."))
    fired = cli(root, "schedule", "run", "opc-evaluation")
    assert fired.returncode == 0, fired.stderr
    done = record_of(root, fired.stdout.strip()) or archived(
        root, daemon, lambda r: r.get("id") == fired.stdout.strip(), "the evaluation")
    assert done["status"] == "success", done
    assert f"docs/evaluations/{today}.md" in done["prompt"] and evaluation.is_file()

    report = json.loads(cli(root, "report", "--format", "json").stdout)
    goals = report["goals"]
    assert goals["optimisations"]["value"] == 1
    assert [item["subjects"] for item in goals["optimisations"]["list"]] == [[SUBJECT]]
    assert goals["evaluation"]["met"] is True
    markdown = cli(root, "report").stdout
    section = markdown[markdown.index("## Goals"):markdown.index("## Summary")]
    assert f"opc-ceo-core]: {SUBJECT}" in section
    with capsys.disabled():
        print("\n" + section)

    # The queue held above the high watermark: fillers that may not start for a day, and a
    # coach that bypasses backpressure itself (priority high) so that it runs at all.
    later = (datetime.now().astimezone() + timedelta(days=1)).isoformat()
    append_to_queue(root, *[{"id": f"filler-{n}", "prompt": "wait", "notBefore": later,
                             "workspace": str(workspace)} for n in range(11)])
    wait_for(lambda: cli(root, "queue", "check").returncode == 75, timeout=TIMEOUT,
             message="the queue full")
    edit_schedules(root, lambda s: s.update(priority="high")
                   if s["id"] == "opc-coach-planning" else None)
    seen = len(tool_results(api))
    api.push(
        tool_use("Bash", {"command": "claude-runner queue check --json"}, then=None),
        tool_use("Bash", {"command": add.replace("notes", "more-notes")},
                 then="The queue is full; stopping."),
    )
    again = cli(root, "schedule", "run", "opc-coach-planning")
    assert again.returncode == 0, again.stderr
    held = archived(root, daemon, lambda r: r.get("id") == again.stdout.strip(),
                    "the coach against a full queue")
    assert held["status"] == "success", held
    checked, refused = tool_results(api)[seen:seen + 2]
    assert "75" in checked and '"full"' in checked, checked
    assert "75" in refused and "full" in refused, refused
    queued = read_json(root / "tasks" / "queue.json")["list"]
    assert [t["id"] for t in queued] == [f"filler-{n}" for n in range(11)]
    peak = json.loads(cli(root, "report", "--format", "json").stdout)["goals"]["queuePeak"]
    assert peak["value"] == 11 and peak["met"] is False and peak["fullSeconds"] > 0
