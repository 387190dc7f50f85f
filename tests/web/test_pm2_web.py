"""The dashboard as the second, opt-in PM2 app of ecosystem.config.js, beside the daemon."""

from __future__ import annotations

import json
import re
import sys
import urllib.request
import uuid
from pathlib import Path

import pytest
from helpers import wait_for, write_settings

from tests.integration.test_pm2 import Pm2, pm2_binary

pytestmark = [
    pytest.mark.pm2,
    pytest.mark.timeout(120),
    pytest.mark.skipif(sys.platform == "win32", reason="PM2 test: POSIX only"),
    pytest.mark.skipif(pm2_binary() is None, reason="pm2 not installed (.ci/run installs it)"),
]


def printed_url(root: Path) -> str | None:
    log = root / "logs" / "web-out.log"
    match = re.search(r"on (http://\S+)", log.read_text()) if log.exists() else None
    return match.group(1) if match else None


def test_the_web_app_runs_under_pm2_beside_the_daemon(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_settings(root, "[web]\nport = 0\n")
    app = f"cr-web-test-{uuid.uuid4().hex[:8]}"
    pm2 = Pm2(str(pm2_binary()), tmp_path / "pm2home", root, app)
    pm2.env["CLAUDE_RUNNER_WEB"] = "1"
    try:
        pm2("start", str(Path(__file__).resolve().parents[2] / "ecosystem.config.js"))
        url = wait_for(lambda: printed_url(root), timeout=60, interval=0.2,
                       message="the web app's start-up line")

        def says_alive() -> bool:
            with urllib.request.urlopen(url + "?part=badge", timeout=5) as response:
                return "daemon alive" in response.read().decode()

        wait_for(says_alive, timeout=60, interval=0.3, message="the page to see the daemon")
        names = {entry.get("name") for entry in _jlist(pm2)}
        assert {app, f"{app}-web"} <= names
        assert "big ok\">alive<" in urllib.request.urlopen(url, timeout=5).read().decode()
    finally:
        pm2("kill", timeout=60)


def _jlist(pm2: Pm2) -> list[dict]:
    lines = [line for line in pm2("jlist").stdout.splitlines() if line.startswith("[")]
    return json.loads(lines[-1]) if lines else []
