"""Issue 11's small ones, through the CLI: add -/--file/--json/-t units, add -y as root,
schedule next with jitter, queue check on a damaged queue, status hints."""

import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from helpers import REPO, cli, queue_tasks, write_json

PROMPT = ('请修复登录页的 "记住我" 功能；不要改动 API。\n'
          'Second line with \'quotes\' and "more".\n') * 20


def test_add_reads_stdin_and_files_and_prints_json(root, tmp_path):
    piped = subprocess.run([sys.executable, "-m", "pipeline", "--root", str(root), "add", "-",
                            "--id", "piped", "-t", "10m"], input=PROMPT.encode(),
                           capture_output=True, cwd=REPO, timeout=30)
    assert piped.returncode == 0, piped.stderr
    prompt_file = tmp_path / "prompt.txt"
    prompt_file.write_text(PROMPT, encoding="utf-8")
    filed = cli(root, "add", "--file", str(prompt_file), "--id", "filed", "--json")
    assert filed.returncode == 0 and json.loads(filed.stdout)["prompt"] == PROMPT
    tasks = {t["id"]: t for t in queue_tasks(root)}
    assert tasks["piped"]["prompt"] == PROMPT and tasks["piped"]["timeout"] == 600_000
    tiny = cli(root, "add", "x", "-t", "600")
    assert tiny.returncode == 2 and "600s" in tiny.stderr


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root")
def test_add_y_as_root_without_a_sandbox_is_refused_at_once(root):
    refused = cli(root, "add", "x", "-y", env={**os.environ, "IS_SANDBOX": "0"})
    assert refused.returncode == 2 and "IS_SANDBOX" in refused.stderr
    assert queue_tasks(root) == []
    allowed = cli(root, "add", "x", "-y", env={**os.environ, "IS_SANDBOX": "yes"})
    assert allowed.returncode == 0


def test_schedule_next_includes_jitter(root):
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "jittery", "cron": "0 * * * *", "prompt": "p", "jitterSeconds": 3000,
         "timezone": "UTC"}]})
    shown = [datetime.fromisoformat(t) for t in cli(root, "schedule", "next", "jittery",
                                                    "-n", "2").stdout.split()]
    assert shown[0].minute * 60 + shown[0].second > 0  # not on the hour: jittered
    assert (shown[1] - shown[0]).total_seconds() == 3600


def test_queue_check_fails_on_a_damaged_queue_and_status_helps(root):
    (root / "tasks").mkdir(exist_ok=True)
    (root / "tasks" / "queue.json").write_text("{not json")
    checked = cli(root, "queue", "check")
    assert checked.returncode == 1 and "cannot be read" in checked.stderr
    (root / "tasks" / "queue.json").write_text('{"list": []}')
    (root / "inbox" / "rejected").mkdir(parents=True)
    (root / "inbox" / "rejected" / "bad.json.error.json").write_text("{}")
    shown = cli(root, "status").stdout
    assert "NOT RUNNING - start it: claude-runner run" in shown
    assert "rejected 1 inbox file(s)" in shown and "bad.json" in shown


def test_every_option_and_subcommand_has_help():
    from pipeline.cli.parser import build_parser

    def walk(parser):
        for action in parser._actions:
            if action.dest == "help":
                continue
            choices = getattr(action, "choices", None)
            if isinstance(choices, dict):  # subcommands
                for name, sub in choices.items():
                    assert any(c.dest == name for c in action._choices_actions), name
                    yield from walk(sub)
            else:
                yield parser.prog, action

    missing = [f"{prog} {a.dest}" for prog, a in walk(build_parser()) if not a.help]
    assert missing == []
