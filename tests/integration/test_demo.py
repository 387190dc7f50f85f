"""`claude-runner demo`: the whole loop with the stand-in agent, in its own folder only."""

import os
import subprocess
import sys


def run_demo(tmp_path, *args):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "CLAUDE_RUNNER_ROOT": str(tmp_path / "users-root"),
           "CLAUDE_RUNNER_POLL_INTERVAL": "not a number"}
    return subprocess.run([sys.executable, "-m", "pipeline", "demo", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120), cwd


def test_demo_runs_the_loop_and_touches_nothing_else(tmp_path):
    where = tmp_path / "demo"
    done, cwd = run_demo(tmp_path, "--dir", str(where))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    for schedule_id in ("opc-coach-planning", "opc-ceo-execution", "opc-coach-planning2",
                        "opc-ceo-execution2", "opc-evaluation"):
        assert f"ran      {schedule_id}" in out
    assert "## Goals" in out
    assert "| Optimisations this ISO week | >= 2 per week | 3 (" in out
    assert "| Evaluation written | yes |" in out and out.count("✓ met") >= 2
    assert "Add a usage example to README.md" in out and "Look at:" in out
    evaluations = list((where / "project" / "docs" / "evaluations").glob("*.md"))
    assert len(evaluations) == 1
    log = subprocess.run(["git", "-C", str(where / "project"), "log", "--format=%s"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    assert len(log) == 4 and log[-1] == "Initial commit"
    assert not (tmp_path / "users-root").exists() and not any(cwd.iterdir())


def test_demo_refuses_a_folder_that_is_not_empty(tmp_path):
    where = tmp_path / "busy"
    where.mkdir()
    (where / "keep.txt").write_text("mine")
    done, _ = run_demo(tmp_path, "--dir", str(where))
    assert done.returncode == 2 and "not empty" in done.stderr
    assert [p.name for p in where.iterdir()] == ["keep.txt"]
