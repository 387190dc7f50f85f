"""The queue tells waiting roles when it has room again (the seed's coordination flow):
a refused `add --role` is recorded, a `whenFull: "defer"` schedule fires its skipped
slot once at the low watermark, and `queue_recovered` names them all."""

import json
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from helpers import (
    append_to_queue,
    cli,
    history,
    read_json,
    running_task,
    state,
    wait_for,
    write_json,
    write_settings,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from receiver import Receiver  # noqa: E402

pytest.importorskip("apprise")


def events(root, name):
    path = root / "logs" / "events.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [e for e in map(json.loads, lines) if e["event"] == name]


def test_refused_coach_and_deferred_slot_are_told_at_the_low_watermark(root, daemon,
                                                                         tmp_path) -> None:
    with Receiver() as receiver:
        write_settings(root, f"""
[notify]
urls = ["{receiver.url('json', '/coach')}"]
events = ["queue_recovered"]
""")
        daemon.start()
        release = tmp_path / "release"
        assert cli(root, "add", f"@wait {release} 60", "--id", "blocker").returncode == 0
        wait_for(lambda: running_task(root).get("pid"), message="the blocker running")
        append_to_queue(root, *({"id": f"t{n}", "prompt": "fine"} for n in range(11)))
        wait_for(lambda: state(root).get("gate") == "full", message="the queue full")

        refused = cli(root, "add", "plan more", "--role", "ceo-coach")
        assert refused.returncode == 75
        check = cli(root, "queue", "check", "--json")
        waiting = json.loads(check.stdout)["waitingRoles"]
        assert waiting["ceo-coach"]["count"] == 1 and check.returncode == 75

        slot = (datetime.now(UTC) + timedelta(seconds=2)).replace(microsecond=0)
        write_json(root / "tasks" / "scheduled.json", {"tasks": [{
            "id": "coach", "cron": f"{slot.second} {slot.minute} {slot.hour} * * *",
            "timezone": "UTC", "prompt": "plan", "role": "ceo-coach", "whenFull": "defer"}]})
        schedule = wait_for(lambda: (read_json(root / "tasks" / "scheduled.json")["tasks"][0]
                                     .get("deferredSlot") and
                                     read_json(root / "tasks" / "scheduled.json")["tasks"][0]),
                            message="the slot deferred by the full queue")
        assert schedule["lastSkip"]["reason"] == "queue full"

        release.touch()
        copy_id = f"coach-{int(slot.timestamp() * 1000)}"
        wait_for(lambda: any(r["id"] == copy_id for r in history(root)), timeout=30,
                 message="the deferred copy done")
        recovered = events(root, "queue_recovered")
        assert len(recovered) == 1
        assert recovered[0]["waitingRoles"] == ["ceo-coach"]
        assert recovered[0]["deferredSchedules"] == ["coach"]
        assert recovered[0]["length"] <= 5
        fired = [e["taskId"] for e in events(root, "schedule_fired")]
        assert fired == [copy_id]
        assert "waitingRoles" not in state(root)
        message = wait_for(lambda: receiver.messages(), message="the notification")[0]
        assert "ceo-coach" in message["message"] and "coach" in message["message"]
