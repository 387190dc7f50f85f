"""`claude-runner skill install`: the queue-manager skill, copied into a workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, fail

SKILL_SOURCE = Path(__file__).parents[1] / "skills" / "queue-manager"


def install_into(workspace: Path) -> Path:
    """Copy the skill to WORKSPACE/.claude/skills/queue-manager; returns that folder."""
    target = workspace / ".claude" / "skills" / "queue-manager"
    shutil.copytree(SKILL_SOURCE, target, dirs_exist_ok=True)
    return target


def skill_install(workspace: str) -> int:
    folder = Path(workspace).expanduser().resolve()
    if not folder.is_dir():
        return fail(f"{workspace} is not a folder", EXIT_BAD_INPUT)
    target = install_into(folder)
    print(f"installed the queue-manager skill in {target}")
    return EXIT_OK
