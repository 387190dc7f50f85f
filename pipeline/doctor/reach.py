"""Doctor: can an agent started by this runner call `claude-runner` on this root, and can
the enabled schedules (what starts those agents) fire at all?

Builds the agent's environment exactly as the daemon does, then runs
`claude-runner status --json` from a folder outside the root (agents work in their own
workspaces) and checks that it answered for this root.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from datetime import datetime

from pipeline.agent.presets import build_env
from pipeline.doctor.checks import Check
from pipeline.doctor.probes import Probes, first_line
from pipeline.domain.schedule import schedules_in
from pipeline.domain.settings import Settings
from pipeline.scheduling.validity import enabled_problems
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

NAME = "agents reach the queue"
HINT = ("install the runner into the interpreter that runs it (.venv/bin/pip install -e .), "
        "so that its bin folder holds claude-runner")


def check_agent_reaches_queue(layout: Layout, settings: Settings, probes: Probes) -> Check:
    env = build_env(settings, probes.environ, root=layout.root)
    program = shutil.which("claude-runner", path=env.get("PATH"))
    if program is None:
        return Check(NAME, False, "an agent would find no claude-runner on its PATH", HINT)
    try:
        with tempfile.TemporaryDirectory(prefix="claude-runner-doctor-") as elsewhere:
            done = subprocess.run([program, "status", "--json"], cwd=elsewhere, env=env,
                                  capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=probes.version_timeout)
    except (OSError, subprocess.TimeoutExpired) as error:
        return Check(NAME, False, f"{program} status failed: {error}", HINT)
    answered = _root_of(done.stdout)
    if done.returncode != 0 or answered is None:
        return Check(NAME, False, f"{program} status exited {done.returncode}: "
                     f"{first_line(done.stderr or done.stdout)}", HINT)
    if answered != str(layout.root):
        return Check(NAME, False, f"{program} status answered for {answered}, "
                     f"not {layout.root}", HINT)
    return Check(NAME, True, f"an agent runs {program} on {layout.root}")


def _root_of(output: str) -> str | None:
    try:
        value = json.loads(output)
    except json.JSONDecodeError:
        return None
    return value.get("root") if isinstance(value, dict) else None


def check_schedules(layout: Layout, settings: Settings, now: datetime) -> Check:
    try:
        schedules = JsonFile(layout.scheduled, "tasks").items()
    except (CorruptFile, OSError):
        return Check("schedules", True, "not checked (see task files)")
    broken = enabled_problems(schedules_in(schedules), settings, now)
    if broken:
        return Check("schedules", False, "; ".join(f"{i}: {p}" for i, p in broken),
                     "fix the schedule in tasks/scheduled.json (or `claude-runner schedule "
                     "disable ID`); it does not fire meanwhile")
    return Check("schedules", True, f"{len(schedules)} schedule(s), every enabled one can fire")
