import json

from pipeline.agent import build_argv, build_env, parse_result, result_fields
from pipeline.settings import Settings


def test_minimal_argv():
    assert build_argv({"prompt": "x"}, Settings()) == ["claude", "-p", "--output-format", "json"]


def test_every_task_option_becomes_a_flag():
    task = {"prompt": "x", "autoApprove": True, "allowedTools": ["Bash", "Read"],
            "disallowedTools": ["Write"], "model": "opus", "maxTurns": 5, "maxBudgetUsd": 1.5,
            "appendSystemPrompt": "be brief", "permissionMode": "plan", "resume": "abc-1"}
    argv = build_argv(task, Settings(agent_command="/bin/agent", agent_extra_args=("--verbose",)))
    assert argv == ["/bin/agent", "-p", "--output-format", "json",
                    "--dangerously-skip-permissions", "--allowedTools", "Bash", "Read",
                    "--disallowedTools", "Write", "--model", "opus", "--max-turns", "5",
                    "--max-budget-usd", "1.5", "--append-system-prompt", "be brief",
                    "--permission-mode", "plan", "--resume", "abc-1", "--verbose"]


def test_empty_allowed_tools_are_omitted():
    argv = build_argv({"prompt": "x", "allowedTools": [], "autoApprove": False}, Settings())
    assert "--allowedTools" not in argv and "--dangerously-skip-permissions" not in argv


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
