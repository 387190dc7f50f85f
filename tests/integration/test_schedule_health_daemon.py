"""A schedule whose copies keep failing goes `late`: one event and one notification,
shown in `schedule list` and `status`."""

import json
import sys
from pathlib import Path

import pytest
from helpers import cli, state, status_json, wait_for, write_json, write_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from receiver import Receiver  # noqa: E402

pytest.importorskip("apprise")


def test_failing_copies_make_a_schedule_late_and_it_is_told_once(root, daemon) -> None:
    with Receiver() as receiver:
        write_settings(root, f"""
[runner]
poll_interval = 0.3
max_retries = 0
[notify]
urls = ["{receiver.url('json', '/late')}"]
events = ["schedule_late"]
""")
        write_json(root / "tasks" / "scheduled.json", {"tasks": [{
            "id": "broken", "cron": "*/2 * * * * *", "prompt": "@fail", "lateAfter": 0.03}]})
        daemon.start()
        late = wait_for(lambda: (state(root).get("lateSchedules") or {}).get("broken"),
                        timeout=30, message="the schedule late in state.json")
        assert "no successful copy since" in late["reason"]
        beat = state(root)["heartbeatAt"]
        wait_for(lambda: state(root)["heartbeatAt"] > beat, message="another look")
        wait_for(lambda: receiver.messages(), message="the notification")
        beat = state(root)["heartbeatAt"]
        wait_for(lambda: state(root)["heartbeatAt"] > beat, message="yet another look")
        assert [m["title"].split(": ", 1)[1] for m in receiver.messages()] == \
            ["schedule broken is late"]
        assert status_json(root)["lateSchedules"]["broken"]["reason"] == late["reason"]
        listed = json.loads(cli(root, "schedule", "list", "--json").stdout)[0]["health"]
        assert listed["late"] and listed["lastDay"]["failed"] >= 1
        assert "LATE:" in cli(root, "schedule", "list").stdout
