"""runner.toml is read at start; SIGHUP reads it again (between runs), a broken file
keeps the current settings; a settings error is not "bad input" (exit 2) for `add`."""

import json
import signal

from helpers import cli, read_json, record_of, wait_for, write_settings


def test_sighup_reloads_settings_between_runs(root, daemon, tmp_path):
    seen = tmp_path / "seen.txt"
    daemon.start()
    write_settings(root, '[agent.env]\nRUNNER_MARK = "v2"\n')
    daemon.signal(signal.SIGHUP)
    events = root / "logs" / "events.jsonl"
    wait_for(lambda: "settings_reloaded" in events.read_text(), message="the reload")
    assert cli(root, "add", f"@echo-env RUNNER_MARK {seen}", "--id", "after").returncode == 0
    wait_for(lambda: record_of(root, "after"), message="the task after the reload")
    assert seen.read_text() == "v2"

    (root / "runner.toml").write_text("[queue]\nhigh_watermak = 5\n")
    daemon.signal(signal.SIGHUP)
    log = root / "logs" / "runner.jsonl"
    wait_for(lambda: "not reloaded" in log.read_text(), message="the refused reload")
    assert "did you mean queue.high_watermark" in log.read_text()
    assert daemon.process.poll() is None and read_json(root / "tasks" / "state.json")["pid"]

    added = cli(root, "add", "hello")
    assert added.returncode == 78 and "bad settings in" in added.stderr
    shown = cli(root, "status", "--json")  # status and doctor still show what they can
    assert shown.returncode == 0 and "bad settings in" in shown.stderr
    assert json.loads(shown.stdout)["daemon"]["alive"] is True
    doctor = cli(root, "doctor")
    assert doctor.returncode == 1 and "bad settings in" in doctor.stderr
    assert "agent CLI" in doctor.stdout  # the checks ran
