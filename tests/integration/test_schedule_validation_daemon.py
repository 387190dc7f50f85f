"""The daemon reads an unusable schedule (the seed's Windows path on Linux): it gets its
`error`, never fires, and `status` and `doctor` say so."""

from helpers import cli, read_json, status_json, wait_for, write_json


def test_an_unusable_schedule_gets_its_error_and_does_not_fire(root, daemon):
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "seed", "cron": "* * * * * *", "prompt": "plan", "enabled": True,
         "workspace": "E:\\workspaces\\OPC-CEO"},
        {"id": "fine", "cron": "0 0 1 1 *", "prompt": "plan", "enabled": True}]})
    daemon.start()

    def schedules():
        return read_json(root / "tasks" / "scheduled.json")["tasks"]

    wait_for(lambda: schedules()[1].get("nextRun"), message="the daemon to read the file")
    seed = schedules()[0]
    assert "Windows path" in seed["error"] and "nextRun" not in seed
    assert read_json(root / "tasks" / "queue.json", {"list": []})["list"] == []
    assert status_json(root)["brokenSchedules"][0]["id"] == "seed"
    assert "seed BROKEN" in cli(root, "status").stdout
    assert "seed: workspace:" in cli(root, "doctor").stdout
