"""Issue 9 (D1 D3 D8 D11 D20 D22): every value that reaches argv is validated and bounded;
sizes, counts, nesting and backoff are capped."""

import json
from datetime import UTC, datetime

import orjson
import pytest

from pipeline.agent.presets import build_argv
from pipeline.agent.verdict import Verdict
from pipeline.domain import limits
from pipeline.domain.gate import batch_fits
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings, SettingsError
from pipeline.domain.settings_load import load_settings
from pipeline.domain.task import Task
from pipeline.domain.validation import validate
from pipeline.log_once import QUIET, Repeats, gist
from pipeline.stages.retry import MAX_BACKOFF, Requeue, backoff, next_step
from pipeline.stages.run import flag_names
from tests.support.model import attempt
from tests.support.model import task as as_task

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def fields_of(task: dict, settings: Settings | None = None) -> set[str]:
    return {e.field for e in validate({"prompt": "p", **task}, settings or Settings())}


@pytest.mark.parametrize("name", ["Read", "Bash", "Bash(git log:*)", "mcp__github__get_issue",
                                  "mcp__my-server.x__tool_1", "WebFetch(domain:example.com)",
                                  "Edit(/src/**/*.py)", "Bash(npm run test:*)", "Read(~/.zshrc)"])
def test_claude_code_tool_names_are_accepted(name: str) -> None:
    assert limits.tool_name(name)
    assert not fields_of({"allowedTools": [name], "disallowedTools": [name]})


@pytest.mark.parametrize("name", ["--settings", "-x", "--dangerously-skip-permissions",
                                  "/x.json", "Read Bash", "Read\x00", "Bash(ls)\x00", "",
                                  "R" * 201, "Bash(" + "x" * 801 + ")", "Bash(a\nb)"])
def test_anything_else_in_a_tool_list_is_refused(name: str) -> None:
    assert fields_of({"allowedTools": ["Read", name]}) == {"allowedTools"}
    assert fields_of({"disallowedTools": [name]}) == {"disallowedTools"}


def test_the_reason_names_the_bad_tool() -> None:
    errors = validate({"prompt": "p", "allowedTools": ["Read", "--settings", "/x.json"]},
                      Settings())
    assert "'--settings' is not a tool name" in errors[0].reason


@pytest.mark.parametrize(("field", "value"), [
    ("resume", "--dangerously-skip-permissions"), ("resume", "-r"), ("resume", "a b"),
    ("resume", "x" * 129), ("model", "a\x00b"), ("model", "--settings"), ("model", "m" * 257),
    ("model", "m" * 10_000_000), ("model", "opus --x"), ("appendSystemPrompt", "be\x00brief"),
    ("appendSystemPrompt", "x" * (limits.MAX_TEXT + 1)), ("permissionMode", "--yolo"),
    ("id", "--help"), ("id", "-x"), ("name", "n\x00"), ("role", "r" * 1001),
    ("timeout", 604_800_001), ("timeout", 9_300_000_000_000), ("maxRetries", 10**30),
    ("attempts", 10**30), ("maxTurns", 10**9), ("maxBudgetUsd", 1e300), ("workspace", "/\x00"),
])
def test_each_argv_field_is_bounded(field: str, value: object) -> None:
    assert field in fields_of({field: value})


@pytest.mark.parametrize(("field", "value"), [
    ("resume", "3f1c2d4e-5a6b-4c7d-8e9f-0a1b2c3d4e5f"), ("resume", "abc-1"),
    ("model", "claude-sonnet-4-5"), ("model", "opus[1m]"), ("model", "claude-3-5@20241022"),
    ("model", "us.anthropic.claude-3-7-sonnet-20250219-v1:0"),
    ("model", "arn:aws:bedrock:us-east-1:123:inference-profile/x"),
    ("appendSystemPrompt", "-- start with dashes, it is passed as --flag=value"),
    ("id", "a-b.c_d"), ("id", "_x"), ("timeout", 604_800_000), ("maxRetries", 100),
])
def test_ordinary_values_pass(field: str, value: object) -> None:
    assert not fields_of({field: value})


def test_prompt_size_and_nul_are_checked() -> None:
    settings = Settings(max_prompt_bytes=10)
    assert fields_of({"prompt": "é" * 6}, settings) == {"prompt"}  # 12 bytes
    assert not fields_of({"prompt": "é" * 5}, settings)
    assert fields_of({"prompt": "a\x00b"}) == {"prompt"}


def test_a_prompt_in_argv_may_not_look_like_a_flag() -> None:
    assert fields_of({"prompt": "--yolo"}, Settings(agent_preset="gemini")) == {"prompt"}
    assert not fields_of({"prompt": "--yolo"})  # claude: the prompt goes on stdin


def test_deep_nesting_is_refused_before_anything_else() -> None:
    deep: object = "x"
    for _ in range(300):
        deep = [deep]
    assert limits.nesting({"a": deep}) == limits.MAX_NESTING + 1  # stops counting early
    errors = validate({"prompt": "p", "extra": deep}, Settings())
    assert [(e.field, e.reason) for e in errors] == [("(task)", "nested more than 32 levels deep")]
    orjson.dumps(limits.flatten_deep({"extra": deep}))  # the record can be written
    very_deep = orjson.loads(b"[" * 1024 + b"]" * 1024)  # orjson parses what it cannot dump
    assert limits.nesting(very_deep, stop_at=2000) == 1024


def test_workspace_roots_make_a_workspace_required(tmp_path) -> None:
    settings = Settings(workspace_roots=(str(tmp_path),))
    assert fields_of({}, settings) == {"workspace"}
    assert not fields_of({"workspace": str(tmp_path)}, settings)
    assert not fields_of({})  # without roots the contract's default (the root) stands


def test_argv_values_are_glued_to_their_flags() -> None:
    task = as_task(prompt="p", allowedTools=["Read", "Bash(git log:*)"], model="opus",
                   appendSystemPrompt="--settings /x.json", resume="abc")
    argv = build_argv(task, Settings(agent_stream=False), "/w", "/p")
    assert argv[4:] == ["--allowedTools=Read", "--allowedTools=Bash(git log:*)", "--model=opus",
                        "--append-system-prompt=--settings /x.json", "--resume=abc"]
    assert flag_names(argv) == ["claude", "-p", "--output-format", "--allowedTools",
                                "--allowedTools", "--model", "--append-system-prompt",
                                "--resume=abc"]  # a session id is no secret; it says what resumes


def test_custom_preset_never_turns_a_placeholder_into_a_flag() -> None:
    settings = Settings(agent_preset="custom", agent_argv=("agent", "{id}", "--file={id}"))
    assert build_argv(as_task(id="ok"), settings, "/w", "/p") == [
        "agent", "ok", "--file=ok"]
    with pytest.raises(ValueError, match="would become the flag"):  # defence in depth: a
        build_argv(Task(id="--help", prompt="p"), settings, "/w", "/p")  # Task never has it


def test_counts_and_backoff_are_capped() -> None:
    assert backoff(30, 10**30) == MAX_BACKOFF
    assert backoff(30, 3) == 120
    assert Task(id="t", max_retries=10**30).max_retries_or(Settings()) == limits.MAX_RETRIES
    assert Task(id="t", timeout=10**20).timeout_ms(Settings()) == Settings().max_timeout
    running = attempt(attempts=99, maxRetries=10**30, startedAt="x", attempt=1)
    step = next_step(running, Verdict(Outcome.ERROR, "boom", retryable=True), Settings(), NOW)
    assert isinstance(step, Requeue) and step.task.not_before == "2026-03-02T12:00:00.000+00:00"


def test_a_batch_may_not_overshoot_the_high_watermark() -> None:
    assert batch_fits(length=9, count=1, high=10, low=5)     # a single task, as before
    assert batch_fits(length=10, count=1, high=10, low=5)
    assert batch_fits(length=8, count=3, high=10, low=5)     # ends at 11: one past, as one task
    assert not batch_fits(length=8, count=4, high=10, low=5)
    assert not batch_fits(length=6, count=200, high=10, low=5)
    assert batch_fits(length=5, count=200, high=10, low=5)   # a quiet queue takes a big list


def test_limits_are_settings() -> None:
    settings = load_settings(__import__("pathlib").Path("/nonexistent"), environ={},
                             flags=["limits.inbox_file_bytes=10", "limits.prompt_bytes=5",
                                    "limits.timeout_ms=1000", "runner.default_timeout=1000"])
    assert (settings.max_inbox_file_bytes, settings.max_prompt_bytes,
            settings.max_timeout) == (10, 5, 1000)
    with pytest.raises(SettingsError, match="default_timeout"):
        load_settings(__import__("pathlib").Path("/nonexistent"), environ={},
                      flags=["limits.timeout_ms=1000"])


def test_the_same_error_is_logged_once_until_it_changes() -> None:
    seen: list[str] = []
    now = [0.0]
    repeats = Repeats(clock=lambda: now[0])
    for column in (3, 9, 12):
        repeats.log("queue", f"queue.json cannot be parsed (line 1 column {column})", seen.append)
    repeats.log("queue", "queue.json cannot be parsed (file is empty)", seen.append)
    for _ in range(100):  # a writer alternating good and truncated versions
        repeats.clear("queue")
        repeats.log("queue", "queue.json cannot be parsed (file is empty)", seen.append)
    now[0] = QUIET + 1
    repeats.clear("queue")
    repeats.log("queue", "queue.json cannot be parsed (file is empty)", seen.append)
    assert seen == ["queue.json cannot be parsed (line 1 column 3)",
                    "queue.json cannot be parsed (file is empty)",
                    "queue.json cannot be parsed (file is empty)"]
    assert gist("a 12 b 3") == "a # b #"
    assert json.dumps(seen)


def test_a_timer_beyond_the_thread_limit_still_runs() -> None:
    import threading

    from pipeline.execution.agent_process import MAX_TIMER_SECONDS, AgentProcess

    execution = AgentProcess.__new__(AgentProcess)
    execution._timers = []
    execution._arm(9.3e12, lambda: None)  # a timeout of ~9.3e15 ms: OverflowError unclamped
    timer = execution._timers[0]
    assert timer.interval == MAX_TIMER_SECONDS <= threading.TIMEOUT_MAX
    timer.join(0.2)
    assert timer.is_alive()  # still waiting, not dead of an OverflowError
    timer.cancel()
