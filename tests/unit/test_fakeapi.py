"""Smoke test of the fake Anthropic API with urllib (no CLI)."""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))

from fakeapi import FakeAPI, error, hang, text, tool_use, usage_limit  # noqa: E402


def call(api: FakeAPI, path: str, body: object = None, method: str = "POST", timeout: float = 5):
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(api.base_url + path, data=data, method=method)
    request.add_header("content-type", "application/json")
    request.add_header("x-api-key", "sk-test")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def messages(prompt: str = "hi", stream: bool = False, extra: list | None = None) -> dict:
    history = [{"role": "user", "content": [{"type": "text", "text": prompt}]}]
    return {
        "model": "claude-test",
        "stream": stream,
        "tools": [{"name": "Bash"}],
        "messages": history + (extra or []),
    }


def sse_events(raw: bytes) -> list[dict]:
    lines = raw.decode().splitlines()
    return [json.loads(line[len("data: ") :]) for line in lines if line.startswith("data: ")]


@pytest.fixture
def api():
    with FakeAPI() as server:
        yield server


def test_head_get_models_and_count_tokens(api: FakeAPI):
    assert call(api, "/", method="HEAD")[0] == 200
    assert call(api, "/", method="GET")[0] == 200
    status, _, body = call(api, "/v1/models", method="GET")
    assert status == 200 and json.loads(body)["data"][0]["id"]
    status, _, body = call(api, "/v1/messages/count_tokens", {"messages": []})
    assert status == 200 and json.loads(body)["input_tokens"] > 0
    assert call(api, "/nowhere", method="GET")[0] == 404


def test_non_streaming_text_and_default(api: FakeAPI):
    api.push(text("hello"))
    _, _, body = call(api, "/v1/messages?beta=true", messages())
    assert json.loads(body)["content"] == [{"type": "text", "text": "hello"}]
    _, _, body = call(api, "/v1/messages?beta=true", messages())
    assert json.loads(body)["content"][0]["text"] == "OK"


def test_streaming_event_order(api: FakeAPI):
    api.push(text("streamed"))
    status, headers, body = call(api, "/v1/messages?beta=true", messages(stream=True))
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = sse_events(body)
    assert [e["type"] for e in events] == [
        "message_start",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    assert events[2]["delta"] == {"type": "text_delta", "text": "streamed"}


def test_tool_use_then_follow_up(api: FakeAPI):
    api.push(tool_use("Bash", {"command": "echo hi"}, then="done"), text("later"))
    events = sse_events(call(api, "/v1/messages", messages(stream=True))[2])
    block = events[1]["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Bash"
    assert json.loads(events[2]["delta"]["partial_json"]) == {"command": "echo hi"}
    assert events[4]["delta"]["stop_reason"] == "tool_use"
    result = {"type": "tool_result", "tool_use_id": block["id"], "content": "hi"}
    follow = messages(extra=[{"role": "user", "content": [result]}])
    assert json.loads(call(api, "/v1/messages", follow)[2])["content"][0]["text"] == "done"
    assert api.requests[-1].has_tool_result
    assert json.loads(call(api, "/v1/messages", messages())[2])["content"][0]["text"] == "later"


def test_errors_carry_status_body_and_headers(api: FakeAPI):
    api.push(error(529, "Overloaded"), usage_limit(1795631022))
    status, _, body = call(api, "/v1/messages", messages())
    assert status == 529
    assert json.loads(body)["error"] == {"type": "overloaded_error", "message": "Overloaded"}
    status, headers, _ = call(api, "/v1/messages", messages())
    assert status == 429
    assert headers["anthropic-ratelimit-unified-status"] == "rejected"
    assert headers["anthropic-ratelimit-unified-reset"] == "1795631022"


def test_records_requests_and_finds_last_user_message(api: FakeAPI):
    system_last = [{"role": "system", "content": "Available agent types"}]
    call(api, "/v1/messages?beta=true", messages("the prompt", extra=system_last))
    request = api.message_requests()[-1]
    assert request.path == "/v1/messages?beta=true"
    assert request.headers["x-api-key"] == "sk-test"
    assert request.body["model"] == "claude-test"
    assert request.prompt == "the prompt"


def test_side_requests_do_not_consume_scripts(api: FakeAPI):
    api.push(text("for the agent"))
    side = {"model": "claude-haiku", "messages": [{"role": "user", "content": "title?"}]}
    assert json.loads(call(api, "/v1/messages", side)[2])["content"][0]["text"] == "OK"
    assert json.loads(call(api, "/v1/messages", messages())[2])["content"][0]["text"] == (
        "for the agent"
    )


def test_hang_is_released_by_stop():
    api = FakeAPI(default=hang()).start()
    outcome: list[object] = []

    def client() -> None:
        try:
            outcome.append(call(api, "/v1/messages", messages(), timeout=10))
        except Exception as exc:  # the connection closes without a response
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    assert api.wait_for_messages(1, timeout=5)
    started = time.monotonic()
    api.stop()
    thread.join(timeout=5)
    assert not thread.is_alive() and outcome
    assert time.monotonic() - started < 3


def test_env_points_at_the_server(api: FakeAPI, tmp_path: Path):
    env = api.env(tmp_path, api_key=None, oauth_token="sk-ant-oat01-fake")
    assert env["ANTHROPIC_BASE_URL"] == api.base_url.replace("localhost", "127.0.0.1")
    assert env["HOME"] == str(tmp_path)
    assert "ANTHROPIC_API_KEY" not in env and env["CLAUDE_CODE_OAUTH_TOKEN"]
