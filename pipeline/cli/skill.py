"""`claude-runner skill install`: the queue-manager skill, copied into a workspace."""

from __future__ import annotations

import shutil
from pathlib import Path

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, fail

SKILL_SOURCE = Path(__file__).parents[1] / "skills" / "queue-manager"


def skill_install(workspace: str) -> int:
    target = Path(workspace).expanduser().resolve() / ".claude" / "skills" / "queue-manager"
    if not target.parent.parent.parent.is_dir():
        return fail(f"{workspace} is not a folder", EXIT_BAD_INPUT)
    shutil.copytree(SKILL_SOURCE, target, dirs_exist_ok=True)
    print(f"installed the queue-manager skill in {target}")
    return EXIT_OK
