"""Sessions and resuming (pure): which session an attempt runs under, its argv and prompt,
and whether the next attempt continues it."""

import json
from datetime import UTC, datetime

import pytest

from pipeline.agent import session
from pipeline.agent.usage_limit import UsageLimit
from pipeline.agent.verdict import Verdict, judge
from pipeline.domain.attempt import Attempt, AttemptEnd
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings, SettingsError
from pipeline.domain.settings_load import load_settings
from pipeline.domain.task import Task
from pipeline.execution.output_watch import is_progress
from pipeline.stages.resume import carry
from pipeline.stages.retry import Requeue, next_step
from pipeline.stages.run import launch_for, running_entry
from pipeline.storage.layout import Layout

NOW = datetime(2026, 11, 25, 15, 0, tzinfo=UTC)
RUNNING = {"id": "t", "prompt": "Fix the bug", "sessionId": "s-1", "sessionIds": ["s-1"]}


def running(**fields):
    return Attempt.from_dict({**RUNNING, **fields})


def task(**fields):
    return Task.from_dict({"id": "t", "prompt": "x", **fields})


def test_a_fresh_attempt_gets_a_new_uuid_a_resume_keeps_its_session():
    fresh = session.choose_id(task(), resumable=True)
    assert len(fresh) == 36 and fresh != session.choose_id(task(), resumable=True)
    assert session.choose_id(task(resumeSession="s-1"), resumable=True) == "s-1"
    assert session.choose_id(task(resume="user-9"), resumable=True) == "user-9"
    assert session.choose_id(task(), resumable=False) is None


def test_a_failed_resume_of_the_tasks_own_session_runs_fresh_once(tmp_path):
    fallen = task(resume="gone", resumeFallbacks=1)
    session_id = session.choose_id(fallen, resumable=True)
    assert session_id != "gone"
    launch = launch_for(running_entry(fallen, NOW, session_id), Layout(tmp_path), Settings(),
                        {})
    assert not any(part.startswith("--resume") for part in launch.argv)
    assert f"--session-id={session_id}" in launch.argv


def test_the_running_entry_names_its_session_before_the_agent_starts():
    entry = running_entry(task(sessionIds=["a"], resumeSession="a", resumes=1), NOW,
                          "a").to_dict()
    assert entry["sessionId"] == "a" and entry["sessionIds"] == ["a", "a"]
    assert entry["resumes"] == 2 and entry.get("pid") is None


def test_argv_and_prompt_of_a_fresh_and_a_resumed_attempt(tmp_path):
    layout = Layout(tmp_path)
    settings = Settings(agent_stream=False)
    fresh = launch_for(running_entry(task(prompt="Fix it"), NOW, "s-1"), layout,
                       settings, {}, frozenset({"permission-prompts"}))
    assert fresh.argv[-2:] == ["--session-id=s-1", "--permission-prompts=none"]
    assert fresh.prompt == "Fix it"
    resuming = task(prompt="Fix it", resumeSession="s-1", model="opus",
                    resumeReason="a usage limit was reached", fallbackModel="sonnet")
    resumed = launch_for(running_entry(resuming, NOW, "s-1"), layout, settings, {})
    assert not any(part.startswith("--session-id") for part in resumed.argv)
    assert "--resume=s-1" in resumed.argv
    assert "--model=sonnet" in resumed.argv
    assert "interrupted (a usage limit was reached)" in resumed.prompt
    assert resumed.prompt.endswith("Fix it")


@pytest.mark.parametrize(("verdict", "resumed"), [
    (Verdict(Outcome.INTERRUPTED, "stop", retryable=True, counts=False), True),
    (Verdict(Outcome.INTERRUPTED, "crash", retryable=True), True),
    (Verdict(Outcome.ERROR, "limit", retryable=True, counts=False,
             usage_limit=UsageLimit("You've hit your session limit", None)), True),
    (Verdict(Outcome.TIMEOUT, "idle: no progress for too long (idle_timeout)",
             retryable=True), True),
    (Verdict(Outcome.TIMEOUT, "timed out", retryable=True), False),
    (Verdict(Outcome.ERROR, "verify failed", retryable=True, feedback="fix it"), True),
    (Verdict(Outcome.ERROR, "API Error: 500", retryable=True), False),
])
def test_which_ends_are_resumed(verdict, resumed):
    fields = carry(running(), verdict, Settings())
    assert (fields.get("resume_session") == "s-1") is resumed


def test_resume_on_timeout_max_resumes_and_resume_off():
    timeout = Verdict(Outcome.TIMEOUT, "timed out", retryable=True)
    assert carry(running(), timeout, Settings(resume_on_timeout=True))["resume_session"] == "s-1"
    stop = Verdict(Outcome.INTERRUPTED, "stop", retryable=True, counts=False)
    assert "resume_session" not in carry(running(resumes=3), stop, Settings())
    assert "resume_session" not in carry(running(), stop, Settings(resume=False))


def test_a_session_that_cannot_be_resumed_falls_back_once_uncounted():
    output = "No conversation found with session ID: s-1\n" + json.dumps(
        {"type": "result", "subtype": "success", "is_error": True,
         "errors": ["No conversation found with session ID: s-1"]})
    verdict = judge(AttemptEnd(1, False, None, output), NOW)
    assert verdict.resume_failed and not verdict.counts
    step = next_step(running(resumeSession="s-1"), verdict, Settings(), NOW)
    assert isinstance(step, Requeue)
    requeued = step.task.to_dict()
    assert "resumeSession" not in requeued and requeued["resumeFallbacks"] == 1
    assert requeued.get("attempts", 0) == 0


def test_a_model_limit_with_fallback_model_runs_on_it_once():
    limit = UsageLimit("You've hit your Opus limit", None, kind="model")
    verdict = Verdict(Outcome.ERROR, "limit", retryable=True, counts=False, usage_limit=limit)
    settings = Settings(fallback_model="sonnet")
    assert carry(running(), verdict, settings)["fallback_model"] == "sonnet"
    assert "fallback_model" not in carry(running(fallbackModel="sonnet"), verdict, settings)


def test_stream_denials_read_from_tool_results():
    events = [
        {"type": "assistant", "message": {"content": [
            {"type": "tool_use", "id": "u1", "name": "Bash", "input": {}},
            {"type": "tool_use", "id": "u2", "name": "Write", "input": {}}]}},
        {"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "u1", "is_error": True,
             "content": "Output redirection to 'x' was blocked. For security, Claude Code may "
                        "only write to files in the allowed working directories"},
            {"type": "tool_result", "tool_use_id": "u2", "is_error": True,
             "content": [{"type": "text", "text": "Claude requested permissions to write to "
                                                  "/w/x, but you haven't granted it yet."}]}]}},
        {"type": "user", "message": {"content": [
            {"type": "tool_result", "tool_use_id": "u1", "is_error": True,
             "content": "cat: /root/x: Permission denied"}]}},  # the command's own error
    ]
    output = "\n".join(json.dumps(e) for e in events)
    assert session.stream_denials(output) == {"Bash": 1, "Write": 1}
    fields = session.with_stream_denials({"permissionDenials": 1, "deniedTools": ["Write"]},
                                         output)
    assert fields["permissionDenials"] == 2 and fields["deniedTools"] == ["Bash", "Write"]


def test_permission_prompts_detected_from_help():
    assert session.supports_permission_prompts("  --permission-prompts <mode>  none|ask")
    assert not session.supports_permission_prompts("  --permission-mode <mode>")


def test_keep_alives_and_retries_are_not_progress():
    assert is_progress(b'{"type":"assistant","message":{}}')
    assert is_progress(b'{"type":"user","message":{}}')
    assert not is_progress(b'{"type":"rate_limit_event","rate_limit_info":{}}')
    assert not is_progress(b'{"type":"system","subtype":"api_retry","attempt":2}')
    assert not is_progress(b"some stderr noise")


def test_a_bad_continuation_prompt_is_refused(tmp_path):
    (tmp_path / "runner.toml").write_text('[runner]\ncontinuation_prompt = "go on {task}"\n')
    with pytest.raises(SettingsError, match="continuation_prompt"):
        load_settings(tmp_path, environ={})


def test_status_shows_the_pause_class(tmp_path):
    from pipeline.cli.status import collect, render

    layout = Layout(tmp_path)
    layout.tasks.mkdir(parents=True)
    (layout.tasks / "state.json").write_text(json.dumps({
        "pausedUntil": "2026-11-25T18:00:00+00:00", "pauseReason": "You've hit your Opus limit",
        "pauseClass": "model"}))
    status = collect(layout, Settings(), NOW, detail=False)
    assert status["pauseClass"] == "model"
    assert "(model limit: You've hit your Opus limit;" in render(status)
    later = collect(layout, Settings(), datetime(2026, 11, 25, 19, 0, tzinfo=UTC), detail=False)
    assert later["pauseClass"] is None and later["pausedUntil"] is None


def test_a_stop_in_the_same_batch_keeps_the_agents_end():
    """PM2 signals the agent and the runner together: the agent's `finished` may share a
    batch with the stop (before or after it) and must still be handled."""
    from pipeline.daemon.daemon import split_stop
    from pipeline.daemon.sources import Signal

    finished = Signal("finished", payload="end")
    assert split_stop([Signal("stop", payload="SIGINT"), finished]) == ("SIGINT", [finished])
    assert split_stop([finished]) == (None, [finished])
