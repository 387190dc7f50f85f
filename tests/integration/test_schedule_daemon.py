"""The scheduler inside the real daemon: firing, live edits, quiet files."""

from helpers import history, read_json, wait_for, write_json


def schedules(root):
    return (read_json(root / "tasks" / "scheduled.json") or {}).get("tasks", [])


def test_a_two_second_schedule_fires_and_its_copies_complete(root, daemon):
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "tick", "cron": "*/2 * * * * *", "prompt": "tick ünï ✓", "role": "coach",
         "owner": {"keep": True}},
    ]})
    daemon.start()
    done = wait_for(lambda: [r for r in history(root) if r.get("scheduledId") == "tick"][:2]
                    if len([r for r in history(root) if r.get("scheduledId") == "tick"]) >= 2
                    else None, timeout=20, message="two scheduled copies")
    assert all(r["status"] == "success" and r["scheduled"] is True for r in done)
    assert all(r["id"].startswith("tick-") and r["role"] == "coach" for r in done)
    assert done[0]["prompt"] == "tick ünï ✓"
    schedule = schedules(root)[0]
    assert schedule["owner"] == {"keep": True} and schedule["lastRun"] and schedule["nextRun"]
    raw = (root / "tasks" / "scheduled.json").read_text(encoding="utf-8")
    assert "ünï ✓" in raw and raw.startswith('{\n  "tasks": [')


def test_edits_take_effect_without_restart_and_unchanged_files_are_not_rewritten(root, daemon):
    path = root / "tasks" / "scheduled.json"
    write_json(path, {"tasks": [{"id": "broken", "cron": "*/0 * * * *", "prompt": "x"},
                                {"id": "later", "cron": "0 0 1 1 *", "prompt": "y"}]})
    daemon.start()
    wait_for(lambda: schedules(root)[0].get("error"), message="error on the broken cron")
    assert "0" in schedules(root)[0]["error"]
    wait_for(lambda: schedules(root)[1].get("nextRun"), message="nextRun on the valid one")
    # fix it: the error goes away and it gets a nextRun
    data = read_json(path)
    data["tasks"][0]["cron"] = "*/2 * * * * *"
    write_json(path, data)
    wait_for(lambda: "error" not in schedules(root)[0] and schedules(root)[0].get("nextRun"),
             message="error cleared")
    wait_for(lambda: any(r.get("scheduledId") == "broken" for r in history(root)), timeout=10,
             message="the fixed schedule fires")
    # disable it: no more copies
    data = read_json(path)
    data["tasks"][0]["enabled"] = False
    write_json(path, data)
    wait_for(lambda: "nextRun" not in schedules(root)[0], message="disabled schedule settles")
    stat = path.stat()
    count = sum(r.get("scheduledId") == "broken" for r in history(root))
    # a quiet file: while the daemon keeps ticking (heartbeats), nothing rewrites it
    beats = read_json(root / "tasks" / "state.json")["heartbeatAt"]
    (root / "inbox" / "nudge.json").write_text('{"prompt": "wake the loop"}')
    wait_for(lambda: not (root / "inbox" / "nudge.json").exists(), message="a tick")
    wait_for(lambda: read_json(root / "tasks" / "state.json")["heartbeatAt"] != beats,
             timeout=15, message="a later heartbeat")
    assert path.stat().st_mtime_ns == stat.st_mtime_ns
    assert sum(r.get("scheduledId") == "broken" for r in history(root)) <= count + 1
