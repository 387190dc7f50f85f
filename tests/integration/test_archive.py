"""A dropped task runs and is archived: the record, the history line, the task log, the format."""

import json
from datetime import datetime
from pathlib import Path

from helpers import drop, parse_time, read_json, record_of, task_log, wait_for

RECORD_FIELDS = {"status", "outcome", "attempts", "startedAt", "completedAt", "durationMs",
                 "exitCode", "error", "result", "costUsd", "sessionId", "numTurns", "logFile"}
TEXT = "ünïcødé ✓"


def test_record_history_log_and_format(root: Path, daemon) -> None:
    daemon.start()
    unknown = {"customField": {"nested": [1, "ü", None]}, "ticket": 42}
    dropped = drop(root, "job.json", {"prompt": f"say {TEXT}", "id": "arch-1", "role": "coach",
                                      "name": "Archive test", **unknown})
    record = wait_for(lambda: record_of(root, "arch-1"), message="arch-1 archived")

    # every Record field, with the values a successful fake run gives
    assert record.keys() >= RECORD_FIELDS, RECORD_FIELDS - record.keys()
    assert record["status"] == "success", daemon.output()
    assert record["outcome"] == "success"
    assert record["attempts"] == 1
    assert record["exitCode"] == 0
    assert record["error"] is None
    assert TEXT in record["result"]
    assert record["costUsd"] == 0.0123
    assert record["sessionIds"] == [record["sessionId"]]  # the runner's --session-id
    assert len(record["sessionId"]) == 36 and record["resumes"] == 0
    assert record["numTurns"] == 1
    started, completed = parse_time(record["startedAt"]), parse_time(record["completedAt"])
    assert dropped - 1 < started <= completed
    assert isinstance(record["durationMs"], int)
    assert abs(record["durationMs"] - (completed - started) * 1000) <= 2
    assert Path(record["logFile"]).resolve() == (root / "logs" / "tasks" / "arch-1.log").resolve()
    # the task's own fields, known and unknown, preserved untouched
    assert record["prompt"] == f"say {TEXT}"
    assert record["role"] == "coach" and record["name"] == "Archive test"
    for key, value in unknown.items():
        assert record[key] == value
    parse_time(record["createdAt"])
    assert [r["id"] for r in read_json(root / "tasks" / "completed.json")["list"]] == ["arch-1"]
    assert not (read_json(root / "tasks" / "failed.json") or {}).get("list")

    # the history file of the local date holds exactly this record
    day = datetime.fromisoformat(record["completedAt"]).astimezone().date().isoformat()
    history_file = root / "tasks" / "history" / f"{day}.jsonl"

    def history_lines() -> list[str]:
        if not history_file.exists():
            return []
        return [line for line in history_file.read_text(encoding="utf-8").splitlines() if line]

    # completed.json is written first, then the history line
    lines = wait_for(history_lines, timeout=5, message="the history line")
    assert len(lines) == 1
    assert json.loads(lines[0]) == record
    assert TEXT in lines[0], "history: non-ASCII must not be escaped"

    # the task log: the attempt header, then what the agent printed
    log = task_log(root, "arch-1")
    assert "attempt 1" in log
    session = f'"session_id": "{record["sessionId"]}"'
    assert session in log
    assert log.index("attempt 1") < log.index(session)

    # JSON files: 2-space indent, non-ASCII unescaped
    raw = (root / "tasks" / "completed.json").read_text(encoding="utf-8")
    assert TEXT in raw and "\\u" not in raw
    lines = raw.splitlines()
    assert lines[0] == "{" and lines[1] == '  "list": ['
    assert lines[2] == "    {" and lines[3].startswith('      "')
    assert all((len(line) - len(line.lstrip(" "))) % 2 == 0 for line in lines)
    assert "\t" not in raw
    state_raw = (root / "tasks" / "state.json").read_text(encoding="utf-8")
    assert state_raw.startswith("{\n  \"")
    # idle again soon after: running.json is {} or absent
    wait_for(lambda: not read_json(root / "tasks" / "running.json"), timeout=5,
             message="running.json cleared")
