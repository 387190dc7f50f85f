"""The standing torture suite: crash chaos, fuzzed input, hostile writers, a full disk,
signals and a soak. Normal sizes keep the whole suite near two minutes on two cores;
CLAUDE_RUNNER_TORTURE=big runs the campaign's sizes."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from helpers import FAKE_AGENT, DaemonProcess, write_settings


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A root whose agent is the fake agent run by this interpreter directly (the
    `#!/usr/bin/env python3` line may go through a slow version-manager shim)."""
    folder = tmp_path / "root"
    folder.mkdir()
    agent = tmp_path / "fake_agent.py"
    agent.write_text(f"#!{sys.executable}\n" + FAKE_AGENT.read_text())
    agent.chmod(0o755)
    write_settings(folder, f'[agent]\ncommand = "{agent}"\n')
    return folder


@pytest.fixture
def daemon(root: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(root)
    yield process
    process.stop()


@pytest.fixture
def quick_agent(tmp_path: Path) -> Path:
    """A shell agent that answers like `claude -p --output-format json` (no Python start-up)."""
    agent = tmp_path / "agent.sh"
    agent.write_text("#!/bin/sh\ncat >/dev/null\n"
                     "echo '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
                     "\"result\":\"ok\",\"session_id\":\"s\",\"num_turns\":1}'\n")
    agent.chmod(0o755)
    return agent


@pytest.fixture
def counting_agent(tmp_path: Path) -> Path:
    """A shell agent whose prompt ends with `<runs file>\n<task id>`: appends the id to the
    runs file (one line per execution), sleeps 20 ms, answers success. The last two lines,
    because a resumed attempt's continuation prompt ends with the original prompt."""
    agent = tmp_path / "counting-agent.sh"
    agent.write_text("#!/bin/sh\ninput=$(cat)\n"
                     "runs=$(printf '%s\\n' \"$input\" | tail -n 2 | head -n 1)\n"
                     "id=$(printf '%s\\n' \"$input\" | tail -n 1)\n"
                     "echo \"$id\" >> \"$runs\"\n"
                     "sleep 0.02\n"
                     "echo '{\"type\":\"result\",\"subtype\":\"success\",\"is_error\":false,"
                     "\"result\":\"ok\",\"session_id\":\"s\",\"num_turns\":1}'\n")
    agent.chmod(0o755)
    return agent
