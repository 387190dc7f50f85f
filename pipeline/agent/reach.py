"""How an agent reaches the runner that started it.

The skill tells the agent to run `claude-runner queue check` / `add`. That only works
when the agent finds *this* runner's `claude-runner` (PM2 starts the daemon from a shell
whose PATH rarely holds the virtualenv) and *this* root (the agent works in its own
workspace, not in the root). So every agent gets `CLAUDE_RUNNER_ROOT` and the folder of
the runner's own console script first on its `PATH`, whatever the preset and
`env_passthrough` say.
"""

from __future__ import annotations

import os
import sys
import sysconfig
from pathlib import Path

SCRIPT = "claude-runner.exe" if os.name == "nt" else "claude-runner"


def runner_bin_dir() -> Path:
    """The folder holding this interpreter's `claude-runner` (a venv's bin/ or Scripts/);
    the interpreter's own folder when no such script is installed (doctor then says so)."""
    candidates = [Path(sysconfig.get_path("scripts")), Path(sys.executable).parent]
    for folder in candidates:
        if (folder / SCRIPT).is_file():
            return folder
    return candidates[1]


def with_runner(env: dict[str, str], root: Path, bin_dir: Path | None = None
                ) -> dict[str, str]:
    """`env` plus CLAUDE_RUNNER_ROOT=root and the runner's bin folder first on PATH
    (moved to the front when it was already there)."""
    folder = str(bin_dir or runner_bin_dir())
    rest = [part for part in env.get("PATH", "").split(os.pathsep) if part and part != folder]
    return {**env, "CLAUDE_RUNNER_ROOT": str(root), "PATH": os.pathsep.join([folder, *rest])}
