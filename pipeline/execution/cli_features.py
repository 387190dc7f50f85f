"""What the installed agent CLI can do, asked once at start from its `--help`.

Only Claude Code is asked. `permission-prompts`: the CLI has `--permission-prompts none`
(2.1.259 and later), which turns a permission prompt into a denial instead of a hang.
"""

from __future__ import annotations

import subprocess

from pipeline.agent.presets import executable, speaks_claude_json
from pipeline.agent.session import supports_permission_prompts
from pipeline.domain.settings import Settings

HELP_TIMEOUT = 15.0


def help_text(settings: Settings, env: dict[str, str],
              timeout: float = HELP_TIMEOUT) -> str | None:
    """`<agent> --help` (None when it cannot be run)."""
    try:
        done = subprocess.run(  # noqa: S603 - argv list, never a shell
            [executable(settings), "--help"], env=env, stdin=subprocess.DEVNULL,
            capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout + done.stderr


def detect(settings: Settings, env: dict[str, str]) -> frozenset[str]:
    if not speaks_claude_json(settings):
        return frozenset()
    text = help_text(settings, env) or ""
    return frozenset({"permission-prompts"}) if supports_permission_prompts(text) else frozenset()
