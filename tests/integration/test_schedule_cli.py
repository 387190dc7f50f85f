"""`schedule list|enable|disable|run|next` and `skill install`, without a daemon."""

import json

from helpers import cli, read_json, write_json


def setup_schedules(root):
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "coach", "cron": "0 9 * * mon-fri", "timezone": "Europe/Berlin",
         "prompt": "plan", "role": "coach", "enabled": False, "custom": 1},
    ]})


def test_enable_disable_and_unknown_ids(root):
    setup_schedules(root)
    assert cli(root, "schedule", "enable", "coach").returncode == 0
    schedule = read_json(root / "tasks" / "scheduled.json")["tasks"][0]
    assert schedule["enabled"] is True and schedule["custom"] == 1
    assert cli(root, "schedule", "disable", "coach").returncode == 0
    assert read_json(root / "tasks" / "scheduled.json")["tasks"][0]["enabled"] is False
    assert cli(root, "schedule", "enable", "nobody").returncode == 1


def test_list_next_and_run(root):
    setup_schedules(root)
    listing = json.loads(cli(root, "schedule", "list", "--json").stdout)
    assert listing[0]["id"] == "coach" and listing[0]["timezone"] == "Europe/Berlin"
    upcoming = cli(root, "schedule", "next", "coach", "-n", "3").stdout.split()
    assert len(upcoming) == 3 and all(t.endswith(("+01:00", "+02:00")) for t in upcoming)
    assert all("T09:00:00" in t for t in upcoming)
    ran = cli(root, "schedule", "run", "coach")
    assert ran.returncode == 0 and ran.stdout.startswith("coach-")
    queued = read_json(root / "tasks" / "queue.json")["list"]
    assert queued[0]["scheduledId"] == "coach" and queued[0]["scheduled"] is True
    assert queued[0]["role"] == "coach" and "cron" not in queued[0]


def test_skill_install(root, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    assert cli(root, "skill", "install", "--workspace", str(workspace)).returncode == 0
    skill = (workspace / ".claude" / "skills" / "queue-manager" / "SKILL.md").read_text()
    assert skill.startswith("---") and "name: queue-manager" in skill
    assert "queue check" in skill


def test_enable_and_run_refuse_an_unusable_schedule(root):
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "seed", "cron": "0 * * * *", "prompt": "plan", "enabled": False,
         "workspace": "E:\\workspaces\\OPC-CEO"}]})
    refused = cli(root, "schedule", "enable", "seed")
    assert refused.returncode == 2
    assert "not enabled" in refused.stderr and "Windows path" in refused.stderr
    assert read_json(root / "tasks" / "scheduled.json")["tasks"][0]["enabled"] is False
    assert "Windows path" in cli(root, "schedule", "run", "seed").stderr
    assert read_json(root / "tasks" / "queue.json", {"list": []})["list"] == []


def test_run_twice_while_a_copy_is_queued_refuses_the_second(root):
    setup_schedules(root)
    assert cli(root, "schedule", "run", "coach").returncode == 0
    again = cli(root, "schedule", "run", "coach")
    assert again.returncode == 75 and "overlap" in again.stderr
    assert len(read_json(root / "tasks" / "queue.json")["list"]) == 1
