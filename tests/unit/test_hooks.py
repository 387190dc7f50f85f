import sys

import pytest
from helpers import wait_for
from loguru import logger

from pipeline.domain.settings import SettingsError
from pipeline.domain.settings_load import load_settings
from pipeline.execution.procgroup import running
from pipeline.storage.events import hook_argv, run_hook


def test_placeholders_are_filled_without_a_shell():
    record = {"at": "t", "event": "task_failed", "id": "t1", "error": "boom; rm -rf /",
              "logFile": "/l/t1.log"}
    argv = hook_argv(("notify", "{id}", "{status}", "{error}", "{logFile}", "{level}"), record)
    assert argv == ["notify", "t1", "failed", "boom; rm -rf /", "/l/t1.log", ""]


def test_level_placeholder_is_the_new_level():
    record = {"at": "t", "event": "level", "from": "full", "to": "ok", "length": 3}
    assert hook_argv(("x", "{level}", "{length}"), record) == ["x", "ok", "3"]


def test_a_hook_runs(tmp_path):
    out = tmp_path / "out.txt"
    run_hook([sys.executable, "-c", f"open({str(out)!r}, 'w').write('ran')"], timeout=10)
    wait_for(lambda: out.exists() and out.read_text() == "ran", message="the hook's file")


def test_a_slow_hook_is_killed_with_its_children_and_logged(tmp_path):
    pids = tmp_path / "pids"
    script = ("import os, subprocess, sys, time\n"
              "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])\n"
              f"open({str(pids)!r}, 'w').write(f'{{os.getpid()}} {{child.pid}}')\n"
              "time.sleep(60)\n")
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    try:
        run_hook([sys.executable, "-c", script], timeout=1.0)
        wait_for(lambda: pids.exists() and " " in pids.read_text(), message="the hook's pids")
        hook, child = (int(pid) for pid in pids.read_text().split())
        wait_for(lambda: not running(hook) and not running(child), timeout=30,
                 message="the hook and its child killed")
        wait_for(lambda: any("took over 1.0 s and was killed" in w for w in warnings),
                 message="the kill logged")
    finally:
        logger.remove(sink)


def test_a_missing_hook_is_logged_not_raised(tmp_path):
    warnings: list[str] = []
    sink = logger.add(lambda message: warnings.append(str(message)), level="WARNING")
    try:
        run_hook(["/no/such/hook"], timeout=1)
    finally:
        logger.remove(sink)
    assert any("/no/such/hook could not start" in w for w in warnings)


def test_hooks_in_settings(tmp_path):
    (tmp_path / "runner.toml").write_text(
        '[hooks]\non_task_done = ["notify", "{id}"]\ntimeout = 5\n')
    settings = load_settings(tmp_path, environ={})
    assert settings.hooks == (("on_task_done", ("notify", "{id}")),)
    assert settings.hook_timeout == 5.0
    (tmp_path / "runner.toml").write_text('[hooks]\non_whatever = ["x"]\n')
    with pytest.raises(SettingsError, match="hooks.on_whatever"):
        load_settings(tmp_path, environ={})
