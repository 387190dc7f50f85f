from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import DaemonProcess, write_settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    write_settings(tmp_path)
    return tmp_path


@pytest.fixture
def daemon(root: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(root)
    yield process
    process.stop()


@pytest.fixture(autouse=True)
def fake_agent_sessions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The fake agent keeps its sessions here (what HOME/.claude is to Claude Code)."""
    folder = tmp_path / "fake-sessions"
    monkeypatch.setenv("FAKE_AGENT_SESSIONS", str(folder))
    return folder
