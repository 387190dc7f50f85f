import json
import os
from datetime import UTC, datetime

from loguru import logger

from pipeline import log
from pipeline.agent.presets import one_line
from pipeline.daemon.housekeeping import prune_task_logs
from pipeline.storage.layout import Layout


def test_json_log_rotates_and_compresses(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    log.setup(layout, rotation="2 KB")
    try:
        for n in range(100):
            logger.bind(task=f"t{n}").info("line {} {}", n, "x" * 50)
    finally:
        log.quiet()
    rotated = list(layout.logs.glob("runner.*.jsonl.gz"))
    assert rotated, list(layout.logs.iterdir())
    last = layout.runner_log.read_text().splitlines()[-1]
    record = json.loads(last)["record"]
    assert record["extra"]["task"] == "t99" and record["message"].startswith("line 99")


def test_human_lines_have_no_second_timestamp_under_pm2():
    assert log.human_format({"pm_id": "0"}).startswith("{level")
    assert log.human_format({}).startswith("{time")


def test_prompts_are_never_logged_whole():
    assert one_line("word " * 100, 80).endswith("…") and len(one_line("word " * 100, 80)) == 80


def test_old_task_logs_are_pruned(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    old, new = layout.task_log("old"), layout.task_log("new")
    old.write_text("x")
    new.write_text("y")
    now = datetime(2026, 11, 28, 12, tzinfo=UTC)
    month_ago = now.timestamp() - 31 * 86400
    os.utime(old, (month_ago, month_ago))
    os.utime(new, (now.timestamp(), now.timestamp()))
    assert prune_task_logs(layout, retention_days=30, now=now) == 1
    assert not old.exists() and new.exists()
