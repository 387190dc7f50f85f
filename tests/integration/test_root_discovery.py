"""Root discovery: commands in the wrong folder never scatter state there; a root is found
upward as git finds a repository, or through CLAUDE_RUNNER_ROOT."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from helpers import queue_ids

READ_ONLY = (["status"], ["list", "queue"], ["logs"], ["report"], ["queue", "check"],
             ["doctor"], ["schedule", "list"])


def run_in(folder: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if k != "CLAUDE_RUNNER_ROOT"}
    return subprocess.run([sys.executable, "-m", "pipeline", *args], cwd=folder,
                          env={**environ, **env}, capture_output=True, text=True, timeout=30)


def test_commands_in_a_folder_that_is_no_root_create_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "somewhere"
    folder.mkdir()
    for args in READ_ONLY:
        done = run_in(folder, *args)
        assert done.returncode == 1, (args, done.stdout)
        assert "is not a claude-runner root" in done.stderr and "--root" in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    refused = run_in(folder, "add", "do it")
    assert refused.returncode == 1 and "--init-root" in refused.stderr
    assert run_in(folder, "skill", "install", "-w", str(tmp_path)).returncode == 0
    assert list(folder.iterdir()) == []
    assert run_in(folder, "add", "do it", "--init-root", "--id", "first").returncode == 0
    assert queue_ids(folder) == ["first"]


def test_a_root_is_found_upward_and_through_the_environment(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "tasks").mkdir(parents=True)
    deeper = root / "src" / "deeper"
    deeper.mkdir(parents=True)
    assert run_in(deeper, "add", "from below", "--id", "below").returncode == 0
    elsewhere = tmp_path / "workspace"
    elsewhere.mkdir()
    done = run_in(elsewhere, "add", "from a workspace", "--id", "env",
                  CLAUDE_RUNNER_ROOT=str(root))
    assert done.returncode == 0, done.stderr
    assert queue_ids(root) == ["below", "env"]
    assert not (deeper / "tasks").exists() and list(elsewhere.iterdir()) == []


def test_read_only_commands_in_a_bare_root_create_no_folders(tmp_path: Path) -> None:
    (tmp_path / "runner.toml").write_text("")
    for args in READ_ONLY:
        run_in(tmp_path, *args)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["runner.toml"]
