"""Fixtures for the end-to-end tests: the real `claude` CLI against the fake Messages API,
driven by a real daemon on a temp root.

Every test gets its own HOME (Claude Code keeps its transcripts there), its own root and
workspace, and a daemon whose environment is exactly the fake API's plus PATH, so nothing
from the machine (an API key, a login, IS_SANDBOX, CLAUDE_RUNNER_* overrides) leaks in.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fakeapi import FakeAPI
from helpers import REPO, DaemonProcess, merge_toml

LOCAL_CLAUDE = REPO / ".tools" / "claude" / "node_modules" / ".bin" / "claude"
INSTALL_HINT = "npm install --prefix .tools/claude @anthropic-ai/claude-code"


@pytest.fixture(scope="session")
def claude() -> str:
    """The Claude Code CLI: the repository's own install first, then PATH."""
    if LOCAL_CLAUDE.is_file() and os.access(LOCAL_CLAUDE, os.X_OK):
        return str(LOCAL_CLAUDE)
    found = shutil.which("claude")
    if found:
        return found
    pytest.skip(f"the Claude Code CLI is not installed (looked for {LOCAL_CLAUDE} and for "
                f"`claude` on PATH); install it with `{INSTALL_HINT}`")


@pytest.fixture
def api() -> Iterator[FakeAPI]:
    with FakeAPI() as fake:
        yield fake


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    path.mkdir()
    return path


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    path = tmp_path / "workspace"
    path.mkdir()
    return path


@pytest.fixture
def configure(tmp_path: Path, claude: str) -> Callable[[str], None]:
    """Write runner.toml: the real CLI as the agent, fast retries, plus `extra` toml."""
    root = tmp_path / "root"
    root.mkdir(exist_ok=True)

    def write(extra: str = "") -> None:
        base = f"""
[runner]
poll_interval = 10
max_retries = 1
retry_delay = 0.2
kill_grace = 2
default_timeout = 60000

[agent]
command = {json.dumps(claude)}
"""
        (root / "runner.toml").write_text(merge_toml(base, extra), encoding="utf-8")

    return write


@pytest.fixture
def root(tmp_path: Path, configure: Callable[[str], None]) -> Path:
    configure("")
    return tmp_path / "root"


@pytest.fixture
def daemon(root: Path, api: FakeAPI, home: Path) -> Iterator[DaemonProcess]:
    """Not started: a test may rewrite runner.toml or `daemon.env` first."""
    process = DaemonProcess(root)
    process.env = {**api.env(home), "PATH": os.environ.get("PATH", os.defpath)}
    yield process
    process.stop()
