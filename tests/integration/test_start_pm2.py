"""scripts/start-pm2.sh as a newcomer runs it, pm2 not on PATH: the runner comes up under
PM2, pm2-logrotate is set up, and every command it prints works as typed."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import pytest
from helpers import REPO, write_settings

LOCAL_PM2 = REPO / ".tools" / "pm2" / "node_modules" / ".bin" / "pm2"
pytestmark = [pytest.mark.pm2, pytest.mark.timeout(240)]


@pytest.mark.skipif(not LOCAL_PM2.exists(), reason="no local PM2 in .tools/pm2 (.ci/run "
                    "installs it)")
def test_start_pm2_sets_up_logrotate_and_prints_working_commands(tmp_path: Path) -> None:
    root = tmp_path / "root"
    root.mkdir()
    write_settings(root)
    home = Path(tempfile.mkdtemp(prefix="pm2-", dir="/tmp"))
    app = f"cr-start-{uuid.uuid4().hex[:8]}"
    pm2_dir = str(LOCAL_PM2.parent.resolve())
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                           if p and not (Path(p) / "pm2").exists())
    env = {**os.environ, "PATH": path, "PM2_HOME": str(home), "CLAUDE_RUNNER_ROOT": str(root),
           "CLAUDE_RUNNER_APP_NAME": app}
    try:
        done = subprocess.run(["bash", str(REPO / "scripts" / "start-pm2.sh")], env=env,
                              capture_output=True, text=True, timeout=200, cwd=tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        printed = done.stdout
        assert f"{LOCAL_PM2} logs {app}" in printed.replace(pm2_dir, str(LOCAL_PM2.parent))
        assert f'export PATH="{LOCAL_PM2.parent}' in printed.replace(pm2_dir,
                                                                     str(LOCAL_PM2.parent))
        listed = subprocess.run([str(LOCAL_PM2), "jlist"], env=env, capture_output=True,
                                text=True, timeout=60).stdout
        apps = {a["name"]: a for a in json.loads(listed.splitlines()[-1])}
        assert apps[app]["pm2_env"]["status"] == "online"
        assert "pm2-logrotate" in apps, "pm2-logrotate was not installed"
        config = json.loads((home / "module_conf.json").read_text())["pm2-logrotate"]
        assert config["max_size"] == "20M" and str(config["retain"]) == "14"
    finally:
        subprocess.run([str(LOCAL_PM2), "kill"], env=env, capture_output=True, timeout=60)
        shutil.rmtree(home, ignore_errors=True)
