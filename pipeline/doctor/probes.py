"""What `doctor` learns from outside the root: PM2, the environment, HOME, root-ness, the disk
threshold. Checks receive a `Probes`, so tests can stand in for all of it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.domain import clock

GB = 1024**3


class Pm2Unavailable(Exception):
    """PM2 is installed but cannot tell us its apps (daemon down, jlist failed)."""


def first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")[:200]


REPO = Path(__file__).resolve().parents[2]

Pm2Lookup = Callable[[], list[dict[str, Any]] | None]  # None: PM2 is not installed


@dataclass(frozen=True)
class Probes:
    environ: dict[str, str] = field(default_factory=lambda: dict(os.environ))
    home: Path = field(default_factory=Path.home)
    is_root: bool = field(default_factory=lambda: hasattr(os, "geteuid") and os.geteuid() == 0)
    pm2_lookup: Pm2Lookup | None = None  # None: ask the real pm2
    app_name: str = ""                   # "": $CLAUDE_RUNNER_APP_NAME or "claude-runner"
    min_free_bytes: int = GB
    lock_wait: float = 2.0
    version_timeout: float = 10.0
    now: datetime = field(default_factory=clock.now)  # the time of day, as the checks see it

    def pm2_apps(self) -> list[dict[str, Any]] | None:
        """PM2's apps (None: PM2 is not installed); raises Pm2Unavailable when PM2 cannot tell."""
        return (self.pm2_lookup or _pm2_lookup(self.environ))()


# ----- PM2 -----------------------------------------------------------------------------
def pm2_binary(environ: dict[str, str]) -> str | None:
    local = REPO / ".tools" / "pm2" / "node_modules" / ".bin" / "pm2"
    return shutil.which("pm2", path=environ.get("PATH")) or (str(local) if local.exists()
                                                             else None)


def _pm2_lookup(environ: dict[str, str]) -> Pm2Lookup:
    def lookup() -> list[dict[str, Any]] | None:
        binary = pm2_binary(environ)
        if binary is None:
            return None
        _require_pm2_daemon(environ)
        try:
            done = subprocess.run([binary, "jlist"], capture_output=True, text=True,
                                  timeout=20, env=environ, stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as error:
            raise Pm2Unavailable(f"pm2 jlist failed: {error}") from None
        lines = [line for line in done.stdout.splitlines() if line.startswith("[")]
        try:
            return json.loads(lines[-1])
        except (IndexError, json.JSONDecodeError):
            raise Pm2Unavailable(f"pm2 jlist printed no list (exit {done.returncode}): "
                                 f"{first_line(done.stderr or done.stdout)}") from None

    return lookup


def _require_pm2_daemon(environ: dict[str, str]) -> None:
    """Every pm2 command starts a PM2 daemon when none runs: look before asking."""
    home = Path(environ.get("PM2_HOME") or Path.home() / ".pm2")
    try:
        pid = int((home / "pm2.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        raise Pm2Unavailable(f"the PM2 daemon is not running (PM2_HOME {home})") from None
