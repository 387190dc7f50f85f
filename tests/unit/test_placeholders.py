"""Schedule prompt placeholders: validation, filling, and the values at enqueue time."""

from datetime import UTC, datetime

from pipeline.domain.schedule import Schedule, schedule_entries
from pipeline.domain.task import Task
from pipeline.scheduling.checks import schedule_problem
from pipeline.scheduling.placeholders import fill, prompt_problem
from pipeline.scheduling.plan import plan
from pipeline.stages.prompt_context import values, with_context
from pipeline.storage.layout import Layout

NOW = datetime(2026, 3, 10, 9, 0, 5, tzinfo=UTC)
ALL = {"date": "2026-03-10", "schedule_id": "s", "last_run": "never", "report_path": "/r.md",
       "evaluation_path": "/e.md", "queue_level": "ok"}


def test_fill_replaces_known_placeholders_and_unescapes_braces():
    prompt = "On {date} ({schedule_id}, level {queue_level}) read {report_path}: {{literal}}"
    assert prompt_problem(prompt) is None
    assert fill(prompt, ALL) == "On 2026-03-10 (s, level ok) read /r.md: {literal}"


def test_prompt_without_braces_is_unchanged():
    assert fill("plain text", ALL) == "plain text"


def test_unknown_placeholder_is_a_problem_naming_it_and_the_escape():
    problem = prompt_problem('Reply with {"ok": true}')
    assert problem and '{"ok"' in problem and "{{" in problem
    assert "unknown placeholder {today}" in prompt_problem("Today is {today}")
    assert "unknown placeholder {}" in prompt_problem("empty {} braces")


def test_lone_braces_and_format_specs_are_problems():
    assert "unmatched brace" in prompt_problem("a { b")
    assert "unmatched brace" in prompt_problem("a } b")
    assert "no format" in prompt_problem("{date:%Y}")
    assert "no format" in prompt_problem("{date!r}")


def test_a_schedule_with_an_unknown_placeholder_gets_an_error_and_does_not_fire():
    schedule = {"id": "coach", "cron": "* * * * *", "prompt": "plan for {tomorrow}",
                "lastRun": "2026-03-10T08:58:00+00:00", "nextRun": "2026-03-10T08:59:00+00:00"}
    assert "{tomorrow}" in schedule_problem(Schedule.from_dict(schedule), set())
    [decision] = plan(schedule_entries([schedule]), NOW, set(), False)
    assert decision.fire is None and "{tomorrow}" in decision.changes["error"]


def test_values_at_enqueue_time(tmp_path):
    layout = Layout(tmp_path / "root")
    workspace = tmp_path / "ws"
    (workspace / "docs" / "evaluations").mkdir(parents=True)
    for day in ("2026-03-08", "2026-03-09"):
        (workspace / "docs" / "evaluations" / f"{day}.md").write_text("e", encoding="utf-8")
    schedule = {"id": "eval", "timezone": "Asia/Tokyo", "lastRun": "2026-03-09T18:00:00+09:00"}
    got = values(layout, Schedule.from_dict(schedule),
                 Task(id="eval-1", workspace=str(workspace)), NOW, "busy")
    assert got == {
        "date": "2026-03-10",
        "schedule_id": "eval",
        "last_run": "2026-03-09T18:00:00+09:00",
        "report_path": str(layout.logs / "reports" / "2026-03-09.md"),
        "evaluation_path": str(workspace / "docs" / "evaluations" / "2026-03-09.md"),
        "queue_level": "busy",
    }


def test_with_context_fills_the_copy_and_defaults(tmp_path):
    layout = Layout(tmp_path)
    schedule = Schedule(id="late", timezone="America/Los_Angeles")
    task = Task(id="late-1", prompt="{date} {last_run} {evaluation_path} {{x}}")
    filled = with_context(layout, schedule, task, NOW, "ok")
    assert filled.prompt == "2026-03-10 never (none yet) {x}"
    assert task.prompt.startswith("{date}")  # the copy given is not changed


def test_schedule_run_refuses_an_unknown_placeholder_and_fills_known_ones(tmp_path, capsys):
    import json

    from pipeline.cli.main import main

    (tmp_path / "tasks").mkdir()
    (tmp_path / "tasks" / "scheduled.json").write_text(json.dumps({"tasks": [
        {"id": "bad", "cron": "@daily", "prompt": "for {tomorrow}"},
        {"id": "good", "cron": "@daily", "prompt": "{schedule_id} at level {queue_level}"}]}))
    assert main(["--root", str(tmp_path), "schedule", "run", "bad"]) == 2
    assert "{tomorrow}" in capsys.readouterr().err
    assert main(["--root", str(tmp_path), "schedule", "run", "good"]) == 0
    queued = json.loads((tmp_path / "tasks" / "queue.json").read_text())["list"]
    assert [task["prompt"] for task in queued] == ["good at level ok"]
