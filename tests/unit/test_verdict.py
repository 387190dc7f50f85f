import json
from datetime import UTC, datetime

from pipeline.agent.verdict import judge
from pipeline.domain.attempt import AttemptEnd
from pipeline.domain.outcome import Outcome

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def output(**fields):
    base = {"type": "result", "subtype": "success", "is_error": False, "result": "ok",
            "session_id": "s", "num_turns": 1, "total_cost_usd": 0.1, "permission_denials": []}
    return json.dumps({**base, **fields})


def end(code, out="", timed_out=False, stop=None):
    return AttemptEnd(code, timed_out, stop, out)


def test_success_needs_exit_zero_and_a_result():
    verdict = judge(end(0, output()), NOW)
    assert verdict.outcome is Outcome.SUCCESS and verdict.fields.cost_usd == 0.1


def test_exit_zero_without_result_is_a_retryable_failure():
    verdict = judge(end(0, ""), NOW)
    assert verdict.outcome is Outcome.ERROR and verdict.retryable and verdict.counts
    assert "without a result" in verdict.error


def test_is_error_with_exit_zero_is_a_failure():
    assert judge(end(0, output(is_error=True)), NOW).outcome is Outcome.ERROR


def test_api_errors_are_retryable_and_name_the_status_once():
    verdict = judge(end(1, output(is_error=True, api_error_status=500,
                                  result="API Error: 500 Internal")), NOW)
    assert verdict.retryable and verdict.error == "API Error: 500 Internal"
    bare = judge(end(1, output(is_error=True, api_error_status=529, result="Overloaded")), NOW)
    assert bare.error == "API error 529: Overloaded"


def test_an_errors_list_reads_as_text():
    out = json.dumps({"type": "result", "subtype": "error_during_execution", "is_error": True,
                      "errors": ["first", "second"]})
    assert judge(end(1, out), NOW).error == "first; second"


def test_max_turns_and_budget_are_final():
    for subtype in ("error_max_turns", "error_max_budget_usd"):
        out = json.dumps({"type": "result", "subtype": subtype, "is_error": True,
                          "errors": ["x"]})
        verdict = judge(end(1, out), NOW)
        assert verdict.outcome is Outcome.ERROR and not verdict.retryable


def test_timeout_cancel_and_shutdown():
    assert judge(end(-15, timed_out=True), NOW).outcome is Outcome.TIMEOUT
    cancelled = judge(end(-15, stop="cancel"), NOW)
    assert cancelled.outcome is Outcome.CANCELLED and not cancelled.retryable
    stopped = judge(end(0, stop="shutdown"), NOW)
    assert stopped.outcome is Outcome.INTERRUPTED and not stopped.counts


def test_usage_limit_pauses_without_counting():
    message = "Claude AI usage limit reached|1795000000"
    verdict = judge(end(1, output(is_error=True, result=message)),
                    NOW)
    assert verdict.usage_limit is not None and not verdict.counts
    assert verdict.usage_limit.resets_at == datetime.fromtimestamp(1795000000, UTC)


def test_permission_denials_fail_when_configured():
    out = output(permission_denials=[{"tool_name": "Bash", "tool_input": {}}])
    denied = judge(end(0, out), NOW)
    assert denied.outcome is Outcome.ERROR and "Bash" in denied.error and not denied.retryable
    assert judge(end(0, out), NOW, fail_on_denials=False).outcome is Outcome.SUCCESS


def test_plain_failure_uses_the_last_lines():
    verdict = judge(end(2, "starting\nfatal: no such thing\n"), NOW)
    assert verdict.error == "exit code 2: starting fatal: no such thing"


def test_what_looks_like_our_own_stop():
    from pipeline.agent.verdict import looks_interrupted

    aborted = output(is_error=True, subtype="error_during_execution",
                     terminal_reason="aborted_streaming")
    assert looks_interrupted(end(0, ""), claude_json=True)
    assert looks_interrupted(end(0, aborted), claude_json=True)
    assert looks_interrupted(end(1, aborted), claude_json=True)
    assert looks_interrupted(end(-15), claude_json=False)
    assert not looks_interrupted(end(0, output()), claude_json=True)
    assert not looks_interrupted(end(0, ""), claude_json=False)
    assert not looks_interrupted(end(1, output(is_error=True)), claude_json=True)
