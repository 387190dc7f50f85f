"""No agent run is wasted, with the real Claude Code CLI against the fake Messages API:
an interrupted session is resumed (the API sees the earlier turns), a stalled stream is
ended by the idle timeout, a denial the result does not list is read from the stream."""

from __future__ import annotations

import json
import sys

import pytest
from fakeapi import hang, tool_use
from helpers import queue_tasks, running_task, wait_for

from tests.e2e.test_claude_cli import finished, model_requests, stop_like_pm2, submit, user_messages

pytestmark = pytest.mark.claude


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="scans /proc")
def test_a_pm2_restart_resumes_the_real_session(root, daemon, api, workspace) -> None:
    slow = "python3 -c 'import time; time.sleep(30)'"
    api.push(tool_use("Bash", {"command": "echo step-one-$((40+2))"}, then=None),
             tool_use("Bash", {"command": slow}, then="Resumed and done."))
    daemon.start()
    submit(root, {"id": "long", "prompt": "Run the slow build.", "allowedTools": ["Bash"],
                  "workspace": str(workspace)})
    entry = wait_for(lambda: (e := running_task(root)).get("pid") and e, message="agent pid")
    session = entry["sessionId"]
    wait_for(lambda: len(model_requests(api)) >= 2, timeout=15, message="the second turn")
    wait_for(lambda: _transcript_has(workspace, "time.sleep(30)"), timeout=10,
             message="the tool call saved in the transcript")

    stop_like_pm2(api, daemon, entry["pid"])
    assert queue_tasks(root)[0]["resumeSession"] == session

    daemon.start()
    record = finished(root, daemon, "long")
    assert record["status"] == "success", record
    assert record["result"] == "Resumed and done."
    assert record["resumes"] == 1 and record["sessionIds"] == [session, session]
    assert record["sessionId"] == session and record["attempts"] == 1
    resumed = model_requests(api)[-1]
    assert "interrupted" in resumed.prompt and "Run the slow build." in resumed.prompt
    history = json.dumps(resumed.body["messages"])
    assert "Run the slow build." in json.dumps(user_messages(resumed)[0])
    # the earlier turns, from the saved transcript: the finished tool call and its output
    # (Claude Code drops the interrupted, unanswered call itself from a resumed conversation)
    assert "step-one-$((40+2))" in history and "step-one-42" in history


def _transcript_has(workspace, needle: str) -> bool:
    home = workspace.parent / "home" / ".claude" / "projects"
    return any(needle in path.read_text(errors="replace") for path in home.rglob("*.jsonl"))


def test_a_stalled_stream_is_ended_by_the_idle_timeout(root, configure, daemon, api,
                                                       workspace) -> None:
    configure("[runner]\nidle_timeout = 3")
    api.default = hang(partial=True)
    daemon.start()
    submit(root, {"id": "stalled", "prompt": "Anything", "timeout": 60000, "maxRetries": 0,
                  "workspace": str(workspace)})
    record = finished(root, daemon, "stalled")
    assert record["outcome"] == "timeout", record
    assert "idle_timeout" in record["error"]
    assert 3000 <= record["durationMs"] < 30000


def test_a_denial_missing_from_permission_denials_is_read_from_the_stream(
        root, daemon, api, workspace) -> None:
    api.push(tool_use("Bash", {"command": "echo hi > out.txt"}, then="I could not."))
    daemon.start()
    submit(root, {"id": "blocked", "prompt": "Write out.txt", "maxRetries": 2,
                  "workspace": str(workspace)})
    record = finished(root, daemon, "blocked")
    assert record["exitCode"] == 0  # the CLI calls this run a success
    assert record["status"] == "failed", record
    assert record["streamDenials"] == 1 and record["deniedTools"] == ["Bash"]
    assert "denied" in record["error"] and record["attempts"] == 1
    assert not (workspace / "out.txt").exists()
