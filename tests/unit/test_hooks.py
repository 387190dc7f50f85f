import sys

import pytest
from helpers import wait_for

from pipeline.domain.settings import SettingsError, load_settings
from pipeline.storage.events import hook_argv, run_hook


def test_placeholders_are_filled_without_a_shell():
    record = {"at": "t", "event": "task_failed", "id": "t1", "error": "boom; rm -rf /",
              "logFile": "/l/t1.log"}
    argv = hook_argv(("notify", "{id}", "{status}", "{error}", "{logFile}", "{level}"), record)
    assert argv == ["notify", "t1", "failed", "boom; rm -rf /", "/l/t1.log", ""]


def test_level_placeholder_is_the_new_level():
    record = {"at": "t", "event": "level", "from": "full", "to": "ok", "length": 3}
    assert hook_argv(("x", "{level}", "{length}"), record) == ["x", "ok", "3"]


def test_a_hook_runs_and_a_slow_one_is_killed(tmp_path):
    out = tmp_path / "out.txt"
    run_hook([sys.executable, "-c", f"open({str(out)!r}, 'w').write('ran')"], timeout=10)
    wait_for(lambda: out.exists() and out.read_text() == "ran", message="the hook's file")
    run_hook([sys.executable, "-c", "import time; time.sleep(30)"], timeout=0.2)
    run_hook(["/no/such/hook"], timeout=1)  # logged, not raised


def test_hooks_in_settings(tmp_path):
    (tmp_path / "runner.toml").write_text(
        '[hooks]\non_task_done = ["notify", "{id}"]\ntimeout = 5\n')
    settings = load_settings(tmp_path, environ={})
    assert settings.hooks == (("on_task_done", ("notify", "{id}")),)
    assert settings.hook_timeout == 5.0
    (tmp_path / "runner.toml").write_text('[hooks]\non_whatever = ["x"]\n')
    with pytest.raises(SettingsError, match="hooks.on_whatever"):
        load_settings(tmp_path, environ={})
