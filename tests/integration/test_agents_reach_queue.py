"""The loop the runner exists for: an agent it starts calls `claude-runner add` from its
own workspace, with a PATH that does not hold the runner's virtualenv (PM2 started from a
plain shell), and the task it added runs on the same root."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from helpers import DaemonProcess, cli, drop, record_of, wait_for


def test_an_agent_adds_a_task_from_its_workspace_and_it_runs(root: Path, tmp_path: Path
                                                              ) -> None:
    workspace = tmp_path / "elsewhere" / "project"
    workspace.mkdir(parents=True)
    venv_bin = str(Path(sys.executable).parent)
    bare_path = os.pathsep.join(p for p in os.environ.get("PATH", "").split(os.pathsep)
                                if p and p != venv_bin)
    daemon = DaemonProcess(root, env={"PATH": bare_path}).start()
    try:
        drop(root, "coach.json", {"id": "coach", "workspace": str(workspace),
                                  "prompt": "@run claude-runner add child-work --id child "
                                            "--role executor"})
        coach = wait_for(lambda: record_of(root, "coach"), timeout=30,
                         message="the coach's run to end")
        assert coach["status"] == "success", coach
        child = wait_for(lambda: record_of(root, "child"), timeout=30,
                         message="the task the agent added to finish")
    finally:
        daemon.stop()
    assert child["status"] == "success", child
    assert child["role"] == "executor"
    assert not (workspace / "tasks").exists(), "add must not invent a root in the workspace"


def test_doctor_sees_that_agents_reach_the_queue(root: Path) -> None:
    done = cli(root, "doctor")
    line = next(x for x in done.stdout.splitlines() if "agents reach the queue" in x)
    assert line.startswith(("✓", "OK")), done.stdout
    assert str(root.resolve()) in line
