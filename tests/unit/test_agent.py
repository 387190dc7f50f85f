import json

from pipeline.agent.presets import build_argv, build_env, parse_result, result_fields
from pipeline.domain.settings import Settings
from tests.support.model import task
from tests.support.model import task as as_task


def test_minimal_argv_streams_by_default():
    argv = build_argv(task({"prompt": "x", "id": "t"}), Settings(), "/w", "/p")
    assert argv == ["claude", "-p", "--output-format", "stream-json", "--verbose"]
    plain = build_argv(task({"prompt": "x", "id": "t"}), Settings(agent_stream=False), "/w", "/p")
    assert plain == ["claude", "-p", "--output-format", "json"]


def test_every_task_option_becomes_a_flag():
    task = as_task({"prompt": "x", "autoApprove": True, "allowedTools": ["Bash", "Read"],
            "disallowedTools": ["Write"], "model": "opus", "maxTurns": 5, "maxBudgetUsd": 1.5,
            "appendSystemPrompt": "be brief", "permissionMode": "plan", "resume": "abc-1"})
    argv = build_argv(task, Settings(agent_command="/bin/agent", agent_extra_args=("--verbose",),
                                     agent_stream=False), "/w", "/p")
    assert argv == ["/bin/agent", "-p", "--output-format", "json",
                    "--dangerously-skip-permissions", "--allowedTools=Bash", "--allowedTools=Read",
                    "--disallowedTools=Write", "--model=opus", "--max-turns=5",
                    "--max-budget-usd=1.5", "--append-system-prompt=be brief",
                    "--permission-mode=plan", "--resume=abc-1", "--verbose"]


def test_empty_allowed_tools_are_omitted():
    argv = build_argv(task({"prompt": "x", "allowedTools": [], "autoApprove": False}), Settings(),
                      "/w", "/p")
    assert not any(a.startswith("--allowedTools") for a in argv)
    assert "--dangerously-skip-permissions" not in argv


def test_stream_json_needs_verbose():
    argv = build_argv(task({"prompt": "x"}), Settings(agent_stream=True), "/w", "/p")
    assert argv[:5] == ["claude", "-p", "--output-format", "stream-json", "--verbose"]


def test_qoder_gets_the_prompt_and_workspace_as_arguments():
    task = as_task({"prompt": "do it", "autoApprove": True, "allowedTools": ["Read", "Bash"]})
    assert build_argv(task, Settings(agent_preset="qoder"), "/w", "/p") == [
        "qodercli", "-q", "-p", "do it", "-w", "/w", "--yolo", "--allowed-tools", "Read,Bash"]


def test_codex_and_gemini_presets():
    task = as_task({"prompt": "do it", "autoApprove": True, "model": "m1"})
    assert build_argv(task, Settings(agent_preset="codex"), "/w", "/p") == [
        "codex", "exec", "--skip-git-repo-check", "-C", "/w",
        "--dangerously-bypass-approvals-and-sandbox", "-m", "m1", "-"]
    assert build_argv(task, Settings(agent_preset="gemini"), "/w", "/p") == [
        "gemini", "-p", "do it", "--yolo", "-m", "m1"]


def test_custom_template_fills_placeholders_without_a_shell():
    settings = Settings(agent_preset="custom",
                        agent_argv=("my-agent", "--in={prompt_file}", "{workspace}", "{id}"))
    argv = build_argv(task({"prompt": "x; rm -rf /", "id": "t1"}), settings, "/w s", "/p f")
    assert argv == ["my-agent", "--in=/p f", "/w s", "t1"]


def test_clean_env_keeps_only_basics_and_passthrough():
    base = {"PATH": "/bin", "HOME": "/h", "AWS_SECRET": "s", "ANTHROPIC_API_KEY": "k",
            "CLAUDECODE": "1"}
    env = build_env(Settings(agent_env_passthrough=("ANTHROPIC_API_KEY",)), base=base)
    assert env == {"PATH": "/bin", "HOME": "/h", "ANTHROPIC_API_KEY": "k"}


def test_env_drops_claudecode_and_adds_agent_env():
    env = build_env(Settings(agent_env=(("FOO", "bar"),), agent_sandboxed=True),
                    base={"CLAUDECODE": "1", "PATH": "/bin"})
    assert env == {"PATH": "/bin", "FOO": "bar", "IS_SANDBOX": "1"}


def test_result_is_found_after_other_output():
    result = {"type": "result", "subtype": "success", "is_error": False, "result": "ok",
              "session_id": "s1", "num_turns": 3, "total_cost_usd": 0.5,
              "permission_denials": [{"tool_name": "Bash"}, {"tool_name": "Write"}]}
    output = "warning: something\n" + json.dumps(result) + "\n"
    parsed = parse_result(output)
    assert parsed == result
    assert result_fields(parsed) == {"result": "ok", "costUsd": 0.5, "sessionId": "s1",
                                     "numTurns": 3, "subtype": "success",
                                     "permissionDenials": 2, "deniedTools": ["Bash", "Write"]}


def test_no_result_in_plain_or_broken_output():
    assert parse_result("") is None
    assert parse_result('{"type": "result", "trunc') is None
    assert parse_result('{"type": "assistant"}') is None


def test_long_results_are_truncated():
    fields = result_fields({"type": "result", "result": "x" * 10_000}, limit=100)
    assert len(fields["result"]) == 101


def test_every_agent_gets_the_way_back_to_its_runner(tmp_path) -> None:
    from pathlib import Path

    from pipeline.agent.reach import runner_bin_dir

    base = {"PATH": "/usr/bin:/bin", "SECRET": "x"}
    for settings in (Settings(), Settings(agent_env_passthrough=()),
                     Settings(agent_preset="codex")):
        env = build_env(settings, base=base, root=tmp_path)
        assert env["CLAUDE_RUNNER_ROOT"] == str(tmp_path)
        assert env["PATH"].split(":") == [str(runner_bin_dir()), "/usr/bin", "/bin"]
        assert (Path(env["PATH"].split(":")[0]) / "claude-runner").exists()
    assert "CLAUDE_RUNNER_ROOT" not in build_env(Settings(), base=base)
