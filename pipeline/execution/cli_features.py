"""What the installed agent CLI can do, asked once at start from its `--help`.

Only Claude Code is asked. `permission-prompts`: the CLI has `--permission-prompts none`
(2.1.259 and later), which turns a permission prompt into a denial instead of a hang.
"""

from __future__ import annotations

import subprocess
import threading

from pipeline.agent.presets import executable, speaks_claude_json
from pipeline.agent.session import supports_permission_prompts
from pipeline.domain.settings import Settings
from pipeline.log import logger

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


class Features:
    """`detect` on a thread started with the daemon (`claude --help` takes about a second,
    which start-up should not wait for); the first attempt waits for the answer."""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self._found: frozenset[str] = frozenset()
        self._thread = threading.Thread(target=self._detect, args=(settings, env),
                                        name="cli-features", daemon=True)
        self._thread.start()

    def _detect(self, settings: Settings, env: dict[str, str]) -> None:
        self._found = detect(settings, env)
        if "permission-prompts" in self._found:
            logger.info("the agent CLI has --permission-prompts: passing --permission-prompts none")

    def get(self) -> frozenset[str]:
        self._thread.join(HELP_TIMEOUT + 1)
        return self._found
