"""Which root a command works on, found the way git finds a repository.

`--root DIR`, else `$CLAUDE_RUNNER_ROOT`, else the current folder or the nearest folder
above it that is a root. A root holds at least one of `tasks/`, `inbox/`, `runner.toml`;
a folder holding none of them is not one, and only `run` (or `add --init-root`) makes it
one - a command typed in the wrong folder must not scatter `tasks/ inbox/ logs/` there.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

MARKERS = ("tasks", "inbox", "runner.toml")


@dataclass(frozen=True)
class Found:
    root: Path
    is_root: bool
    how: str  # "--root", "CLAUDE_RUNNER_ROOT", "current folder", "found above"


def is_root(folder: Path) -> bool:
    return any((folder / marker).exists() for marker in MARKERS)


def find_root(flag: str | None, environ: dict[str, str] | None = None,
              cwd: Path | None = None) -> Found:
    env = os.environ if environ is None else environ
    for chosen, how in ((flag, "--root"), (env.get("CLAUDE_RUNNER_ROOT"), "CLAUDE_RUNNER_ROOT")):
        if chosen:
            root = Path(chosen).expanduser().resolve()
            return Found(root, is_root(root), how)
    here = (cwd or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if is_root(folder):
            return Found(folder, True, "current folder" if folder == here else "found above")
    return Found(here, False, "current folder")


def not_a_root_message(found: Found, writing: bool) -> str:
    """One line saying this is not a root and how to point at one."""
    where = f"{found.root} ({found.how})" if found.how != "current folder" else str(found.root)
    fix = "pass --root DIR or set CLAUDE_RUNNER_ROOT to the folder `claude-runner run` uses"
    if writing:
        fix += ", or add --init-root to make this folder a new root"
    return (f"{where} is not a claude-runner root (no tasks/, inbox/ or runner.toml here or "
            f"above); {fix}")
