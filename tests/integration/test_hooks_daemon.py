import json
import sys

from helpers import read_json, wait_for, write_json, write_settings


def test_done_and_failed_hooks_are_told(root, daemon):
    told = root / "told.txt"
    script = root / "hook.py"
    script.write_text("import sys\nopen(sys.argv[1], 'a').write(' '.join(sys.argv[2:]) + '\\n')\n")
    write_settings(root, f"""
[runner]
max_retries = 0
[hooks]
on_task_done = ["{sys.executable}", "{script}", "{told}", "done", "{{id}}", "{{status}}"]
on_task_failed = ["{sys.executable}", "{script}", "{told}", "failed", "{{id}}", "{{error}}"]
""")
    daemon.start()
    write_json(root / "inbox" / "a.json", {"id": "good", "prompt": "fine"})
    write_json(root / "inbox" / "b.json", {"id": "bad", "prompt": "@fail"})
    lines = wait_for(lambda: told.exists() and len(told.read_text().splitlines()) >= 2
                     and told.read_text().splitlines(), message="both hooks")
    assert "done good success" in lines
    assert any(line.startswith("failed bad ") and "went wrong" in line for line in lines)
    events = [e["event"] for e in map(json.loads,
                                      (root / "logs" / "events.jsonl").read_text().splitlines())]
    assert "task_done" in events and "task_failed" in events and "daemon_start" in events
    assert read_json(root / "tasks" / "state.json")["pid"]
