"""A missing agent CLI is reported when the daemon starts, and a task meeting it fails at
once with a clear reason and the fix, instead of three retries ending in `[Errno 2]`."""

from helpers import cli, record_of, status_json, wait_for, write_settings


def test_missing_agent_is_reported_at_start_and_fails_once(root, daemon):
    write_settings(root, '[agent]\ncommand = "no-such-agent-cli"\n[runner]\nmax_retries = 2\n')
    daemon.start()
    problem = status_json(root)["agentProblem"]
    assert "agent executable not found" in problem and "no-such-agent-cli" in problem
    assert "agent    agent executable not found" in cli(root, "status").stdout
    assert cli(root, "add", "hello", "--id", "lost-agent").returncode == 0
    record = wait_for(lambda: record_of(root, "lost-agent"), message="the task to fail")
    assert record["status"] == "failed" and record["attempts"] == 1
    assert "agent executable not found" in record["error"]
    assert "npm install -g @anthropic-ai/claude-code" in record["error"]
    assert "Errno" not in record["error"]


def test_an_agent_that_is_there_clears_the_warning(root, daemon):
    daemon.start()
    assert status_json(root)["agentProblem"] is None
