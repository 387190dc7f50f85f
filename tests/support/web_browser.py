"""Helpers for the browser tests: a `claude-runner web` subprocess and Debian's chromium
driven by Playwright (never a downloaded browser)."""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from helpers import REPO, wait_for

CHROMIUM = os.environ.get("CLAUDE_RUNNER_CHROMIUM") or shutil.which("chromium") or \
    "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]


def missing_browser() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not installed (pip install -e '.[test,web]')"
    if not Path(CHROMIUM).exists():
        return f"no chromium at {CHROMIUM} (apt-get install chromium)"
    return None


class WebServer:
    """`claude-runner web --port 0` on a root; `url` is what it printed."""

    def __init__(self, root: Path, *extra: str, env: dict[str, str] | None = None) -> None:
        self.output = root / f"web-output-{len(list(root.glob('web-output-*')))}.txt"
        handle = open(self.output, "wb")  # noqa: SIM115
        environ = {**os.environ, **(env or {})}
        environ.pop("CLAUDE_RUNNER_ROOT", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--root", str(root), "web", "--port", "0", *extra],
            stdout=handle, stderr=subprocess.STDOUT, cwd=REPO, env=environ)
        handle.close()
        found = wait_for(self._printed_url, timeout=20, message="the web server's URL")
        self.url: str = found

    def _printed_url(self) -> str | None:
        if self.process.poll() is not None:
            raise AssertionError(f"web exited {self.process.returncode}: "
                                 f"{self.output.read_text()}")
        match = re.search(r"on (http://\S+)", self.output.read_text())
        return match.group(1) if match else None

    @property
    def base(self) -> str:
        return self.url.split("?")[0].rstrip("/")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def pixel_spread(png: Path) -> float:
    """The standard deviation of the grey levels: ~0 for a blank page."""
    from PIL import Image, ImageStat

    with Image.open(png) as image:
        return ImageStat.Stat(image.convert("L")).stddev[0]
