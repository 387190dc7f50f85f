"""`claude-runner doctor`: one test per way a check fails, and one all-good run."""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

import pytest
from filelock import FileLock
from helpers import FAKE_AGENT

from pipeline.doctor import probes as probes_module
from pipeline.doctor import run as doctor
from pipeline.doctor.checks import Check
from pipeline.doctor.probes import Pm2Unavailable, Probes
from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout

ONLINE = [{"name": "claude-runner", "pid": 4242,
           "pm2_env": {"status": "online", "restart_time": 3}}]


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path / "root")
    layout.ensure()
    return layout


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """An agent CLI that answers --version at once (a shell script starts fastest)."""
    agent = tmp_path / "agent-cli"
    agent.write_text("#!/bin/sh\necho '9.9.9 (Fake Code)'\n")
    agent.chmod(0o755)
    return Settings(agent_command=str(agent))


@pytest.fixture
def probes(tmp_path: Path) -> Probes:
    """A healthy machine: an API key, not root, PM2 shows the app online, any disk is enough."""
    return Probes(environ={"PATH": os.environ.get("PATH", ""), "ANTHROPIC_API_KEY": "sk-test"},
                  home=tmp_path / "home", is_root=False, pm2_lookup=lambda: ONLINE,
                  min_free_bytes=1, lock_wait=0.2)


def by_name(layout: Layout, settings: Settings, probes: Probes) -> dict[str, Check]:
    return {check.name: check for check in doctor.run_checks(layout, settings, probes)}


def failed(layout: Layout, settings: Settings, probes: Probes) -> dict[str, Check]:
    return {n: c for n, c in by_name(layout, settings, probes).items() if not c.ok}


def write(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data) if not isinstance(data, str) else data)


def test_all_good(layout: Layout, settings: Settings, probes: Probes,
                  capsys: pytest.CaptureFixture[str]) -> None:
    write(layout.queue, {"list": [{"id": "a", "prompt": "x", "autoApprove": True}]})
    (layout.tasks / "queue.json.lock").touch()  # a lock file nobody holds is fine
    assert doctor.main(layout, settings, probes) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 11 and all(line.startswith("✓") for line in lines), lines
    assert "9.9.9 (Fake Code)" in lines[0] and "4242" in "\n".join(lines)


def test_the_test_fake_agent_passes(layout: Layout, probes: Probes) -> None:
    assert by_name(layout, Settings(agent_command=str(FAKE_AGENT)), probes)["agent CLI"].ok


def test_says_whether_the_cli_has_permission_prompts(layout: Layout, probes: Probes,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(agent_command=str(FAKE_AGENT))
    check = by_name(layout, settings, probes)["permission prompts"]
    assert check.ok and "has no --permission-prompts" in check.detail
    newer = dataclasses.replace(probes, environ={**probes.environ,
                                                 "FAKE_AGENT_PERMISSION_PROMPTS": "1"})
    check = by_name(layout, settings, newer)["permission prompts"]
    assert check.ok and "passes `--permission-prompts none`" in check.detail


def test_agent_missing(layout: Layout, probes: Probes,
                       capsys: pytest.CaptureFixture[str]) -> None:
    settings = Settings(agent_command="no-such-agent-cli")
    assert set(failed(layout, settings, probes)) == {"agent CLI"}
    assert doctor.main(layout, settings, probes) == 1
    out = capsys.readouterr().out
    assert "✗ agent CLI: 'no-such-agent-cli' is not on PATH" in out and "hint:" in out


def test_agent_version_fails_or_hangs(layout: Layout, tmp_path: Path, probes: Probes) -> None:
    broken = tmp_path / "broken-agent"
    broken.write_text("#!/bin/sh\necho 'cannot start' >&2\nexit 3\n")
    broken.chmod(0o755)
    check = failed(layout, Settings(agent_command=str(broken)), probes)["agent CLI"]
    assert "exited 3" in check.detail and "cannot start" in check.detail
    hanging = tmp_path / "hanging-agent"
    hanging.write_text("#!/bin/sh\nexec sleep 30\n")
    hanging.chmod(0o755)
    quick = dataclasses.replace(probes, version_timeout=0.3)
    check = failed(layout, Settings(agent_command=str(hanging)), quick)["agent CLI"]
    assert "did not answer" in check.detail


def test_unparseable_queue(layout: Layout, settings: Settings, probes: Probes) -> None:
    write(layout.queue, '{"list": [')
    write(layout.scheduled, {"tasks": "not a list"})
    check = failed(layout, settings, probes)["task files"]
    assert "queue.json: not valid JSON" in check.detail
    assert 'scheduled.json: "tasks" is not a list' in check.detail
    assert layout.queue.read_text() == '{"list": ['  # looked at, never touched


def test_folder_that_is_a_file(tmp_path: Path, settings: Settings, probes: Probes) -> None:
    # Permission bits cannot make a folder unwritable for root (the tests run as root),
    # but a file where a folder should be fails the same way for everyone.
    layout = Layout(tmp_path / "root")
    layout.tasks.mkdir(parents=True)
    layout.inbox.mkdir()
    layout.logs.write_text("oops")
    check = failed(layout, settings, probes)["folders"]
    assert f"{layout.logs} is not a folder" in check.detail


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0,
                    reason="root writes through any permission bits")
def test_unwritable_folder(layout: Layout, settings: Settings, probes: Probes) -> None:
    layout.inbox.chmod(0o500)
    try:
        assert "not writable" in failed(layout, settings, probes)["folders"].detail
    finally:
        layout.inbox.chmod(0o755)


def test_held_lock(layout: Layout, settings: Settings, probes: Probes) -> None:
    daemon = FileLock(str(layout.tasks / "daemon.lock"))  # a live daemon holds it: fine
    stuck = FileLock(str(layout.queue) + ".lock")
    with daemon, stuck:
        check = failed(layout, settings, probes)["locks"]
    assert "queue.json.lock" in check.detail and "daemon.lock" not in check.detail
    assert by_name(layout, settings, probes)["locks"].ok  # released: fine again


def test_root_with_auto_approve(layout: Layout, settings: Settings, probes: Probes) -> None:
    write(layout.queue, {"list": [{"id": "yolo", "prompt": "x", "autoApprove": True}]})
    write(layout.scheduled, {"tasks": [
        {"id": "nightly", "cron": "0 3 * * *", "prompt": "x", "autoApprove": True},
        {"id": "off", "cron": "0 3 * * *", "prompt": "x", "autoApprove": True,
         "enabled": False}]})
    as_root = dataclasses.replace(probes, is_root=True)
    check = failed(layout, settings, as_root)["root + autoApprove"]
    assert "task yolo" in check.detail and "schedule nightly" in check.detail
    assert "off" not in check.detail and "sandboxed = true" in (check.hint or "")
    sandboxed = dataclasses.replace(settings, agent_sandboxed=True)
    assert by_name(layout, sandboxed, as_root)["root + autoApprove"].ok
    assert by_name(layout, settings, probes)["root + autoApprove"].ok  # not root


def test_no_auth(layout: Layout, settings: Settings, probes: Probes) -> None:
    bare = dataclasses.replace(probes, environ={"PATH": os.environ.get("PATH", "")})
    check = failed(layout, settings, bare)["agent auth"]
    assert check.level == "warning" and "claude login" in (check.hint or "")
    in_toml = dataclasses.replace(settings, agent_env=(("CLAUDE_CODE_OAUTH_TOKEN", "t"),))
    assert by_name(layout, in_toml, bare)["agent auth"].detail.endswith("[agent] env")
    credentials = bare.home / ".claude" / ".credentials.json"
    credentials.parent.mkdir(parents=True)
    credentials.write_text("{}")
    assert by_name(layout, settings, bare)["agent auth"].ok


def test_auth_dropped_by_env_passthrough(layout: Layout, settings: Settings,
                                         probes: Probes) -> None:
    clean = dataclasses.replace(settings, agent_env_passthrough=())
    check = failed(layout, clean, probes)["agent auth"]
    assert "env_passthrough" in check.detail


def test_no_pm2(layout: Layout, settings: Settings, probes: Probes) -> None:
    def down() -> list[dict[str, Any]]:
        raise Pm2Unavailable("the PM2 daemon is not running")

    cases = {
        "pm2 is not installed": lambda: None,
        "the PM2 daemon is not running": down,
        "no PM2 app 'claude-runner'": lambda: [],
        "is waiting restart (pid 0)": lambda: [
            {"name": "claude-runner", "pid": 0, "pm2_env": {"status": "waiting restart"}}],
        "is errored": lambda: [
            {"name": "claude-runner", "pid": 0, "pm2_env": {"status": "errored"}}],
    }
    for expected, lookup in cases.items():
        check = failed(layout, settings, dataclasses.replace(probes, pm2_lookup=lookup))["PM2"]
        assert expected in check.detail and check.hint, (expected, check)


def test_pm2_app_found_by_root_or_name(layout: Layout, settings: Settings,
                                       probes: Probes) -> None:
    other = [{"name": "runner-2", "pid": 7,
              "pm2_env": {"status": "online", "CLAUDE_RUNNER_ROOT": str(layout.root)}}]
    assert by_name(layout, settings, dataclasses.replace(
        probes, pm2_lookup=lambda: other))["PM2"].ok
    renamed = [{**ONLINE[0], "name": "mine"}]
    assert by_name(layout, settings, dataclasses.replace(
        probes, pm2_lookup=lambda: renamed, app_name="mine"))["PM2"].ok


def test_low_disk(layout: Layout, settings: Settings, probes: Probes) -> None:
    check = failed(layout, settings, dataclasses.replace(probes, min_free_bytes=10**18))["disk"]
    assert "GB free" in check.detail and "need" in check.detail


def test_pm2_daemon_not_running_is_detected_without_starting_one(tmp_path: Path) -> None:
    environ = {"PATH": os.environ.get("PATH", ""), "PM2_HOME": str(tmp_path / "pm2")}
    with pytest.raises(Pm2Unavailable, match="not running"):
        probes_module._require_pm2_daemon(environ)
    assert not (tmp_path / "pm2").exists()


def test_a_schedule_with_an_unknown_placeholder_is_shown(layout: Layout, settings: Settings,
                                                         probes: Probes) -> None:
    write(layout.scheduled, {"tasks": [{"id": "ok", "cron": "@daily", "prompt": "{date}"},
                                       {"id": "bad", "cron": "@daily", "prompt": "{when}"}]})
    check = failed(layout, settings, probes)["schedules"]
    assert check.detail.startswith("bad: ") and "{when}" in check.detail
    assert "ok:" not in check.detail
