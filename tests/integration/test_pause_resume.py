"""`pause [--until] [--reason]` and `resume`, by hand: no run starts while paused, resume
wakes the daemon at once, and lifting a usage-limit pause is recorded as an override."""

import json
from datetime import UTC, datetime, timedelta

from helpers import cli, drop, queue_ids, read_json, record_of, state, wait_for, write_settings


def events(root):
    path = root / "logs" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_pause_holds_runs_and_resume_wakes_the_daemon(root, daemon):
    write_settings(root, "[runner]\npoll_interval = 60\n")  # only a signal can wake it early
    daemon.start()
    paused = cli(root, "pause", "--reason", "maintenance")
    assert paused.returncode == 0 and "until `claude-runner resume`" in paused.stdout
    assert cli(root, "add", "first", "--id", "held").returncode == 0
    drop(root, "second.json", {"id": "seen", "prompt": "second"})
    wait_for(lambda: "seen" in queue_ids(root), message="the daemon to admit while paused")
    assert queue_ids(root) == ["held", "seen"] and not record_of(root, "held")
    shown = cli(root, "status").stdout
    assert "paused   until resumed (by hand: maintenance" in shown
    assert cli(root, "resume").stdout.strip() == "resumed"
    wait_for(lambda: record_of(root, "seen"), timeout=15, message="runs after resume")
    assert [e["event"] for e in events(root) if e["event"].startswith("pause")] == [
        "pause_start", "pause_end"]


def test_pause_until_and_resume_overriding_a_usage_limit(root):
    assert cli(root, "pause", "--until", "yesterday").returncode == 2
    assert cli(root, "pause", "--until", "90m").returncode == 0
    until = datetime.fromisoformat(state(root)["pausedUntil"])
    assert timedelta(minutes=89) < until - datetime.now(UTC) <= timedelta(minutes=90)
    assert "by hand" in read_json(root / "tasks" / "state.json")["pauseReason"]
    cli(root, "resume")
    limit = (datetime.now(UTC) + timedelta(hours=3)).isoformat()
    state_file = root / "tasks" / "state.json"
    state_file.write_text(json.dumps({"pausedUntil": limit, "pauseReason": "session limit"}))
    done = cli(root, "resume")
    assert "lifted the pause early: session limit" in done.stdout
    assert "pausedUntil" not in state(root)
    assert events(root)[-1]["override"] == "session limit"
    assert cli(root, "resume").stdout.strip() == "not paused"
