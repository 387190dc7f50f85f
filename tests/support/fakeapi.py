"""A fake Anthropic Messages API for running the real `claude` CLI offline.

    with FakeAPI() as api:
        api.push(tool_use("Bash", {"command": "echo hi > out.txt"}, then="Done."))
        env = api.env(home=tmp_path)          # ANTHROPIC_BASE_URL etc. for the CLI
        subprocess.run([claude, "-p", "--output-format", "json"], input="go", env=env, ...)
        assert api.requests[-1].prompt ...

Each POST /v1/messages takes the next script from the queue (or `default` when the queue
is empty). A `tool_use` script puts its `then` text at the head of the queue, so the CLI's
next request (the one carrying the tool_result) gets it. Requests that the CLI makes on the
side (no `tools` in the body: titles, summaries) get a short text reply and do not consume
scripts. Only 127.0.0.1 is ever bound; `stop()` releases handlers that hang.
"""

from __future__ import annotations

import json
import os
import select
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

HANG_LIMIT = 600.0  # seconds a hanging handler waits at most, even if stop() never comes

_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
    500: "api_error",
    529: "overloaded_error",
}


@dataclass
class Request:
    """One request as the fake API saw it."""

    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None
    at: float = field(default_factory=time.time)
    script: str = ""  # kind of script that answered ("side" for side requests)
    aborted: bool = False  # the client closed the connection while we held it

    @property
    def prompt(self) -> str:
        """Text of the last user message (not necessarily the last message)."""
        return last_user_text(self.body)

    @property
    def has_tool_result(self) -> bool:
        return any(b.get("type") == "tool_result" for b in _last_user_blocks(self.body))


Reply = str | Callable[[Request], str]


@dataclass(frozen=True)
class Script:
    kind: str  # "text", "tool_use", "error" or "hang"
    reply: Reply = ""
    tool: str = ""
    tool_input: dict[str, Any] = field(default_factory=dict)
    then: str | None = None
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    partial: bool = False  # hang: after sending the start of a stream


def text(reply: Reply) -> Script:
    """Answer with one text block (a str, or a function of the Request)."""
    return Script("text", reply=reply)


def tool_use(name: str, tool_input: dict[str, Any], then: str | None = "Done.") -> Script:
    """Ask for a tool call; the next request (with the tool_result) gets `then`."""
    return Script("tool_use", tool=name, tool_input=tool_input, then=then)


def error(status: int, message: str, headers: dict[str, str] | None = None) -> Script:
    """An HTTP error with Anthropic's error body."""
    return Script("error", reply=message, status=status, headers=dict(headers or {}))


def usage_limit(reset_epoch: int, claim: str = "five_hour") -> Script:
    """The 429 a subscription gets at its usage limit (shown as such only with OAuth)."""
    headers = {
        "anthropic-ratelimit-unified-status": "rejected",
        "anthropic-ratelimit-unified-reset": str(reset_epoch),
        "anthropic-ratelimit-unified-representative-claim": claim,
    }
    return error(429, "Rate limited", headers)


def hang(partial: bool = False) -> Script:
    """Hold the connection until the server stops (or the client goes away).

    With `partial`, first send response headers and the start of a stream, then stall."""
    return Script("hang", partial=partial)


def last_user_text(body: Any) -> str:
    """The text blocks of the last user message, without Claude Code's system reminders."""
    texts = [b.get("text", "") for b in _last_user_blocks(body) if b.get("type") == "text"]
    return "\n".join(t for t in texts if not t.startswith("<system-reminder>"))


def _last_user_blocks(body: Any) -> list[dict[str, Any]]:
    messages = body.get("messages", []) if isinstance(body, dict) else []
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return [{"type": "text", "text": content}]
            return [b for b in content or [] if isinstance(b, dict)]
    return []


class FakeAPI:
    """The server. Use as a context manager, or call start() and stop()."""

    def __init__(self, scripts: list[Script] | None = None, default: Script | None = None):
        self.scripts: deque[Script] = deque(scripts or [])
        self.default = default or text("OK")
        self.requests: list[Request] = []
        self.stopping = threading.Event()
        self._lock = threading.Lock()
        self._active = 0  # handlers still running
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._server.daemon_threads = True
        self._server.api = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    # ------------------------------------------------------------- lifecycle
    def _serve(self) -> None:
        self._server.serve_forever(poll_interval=0.05)

    def start(self) -> FakeAPI:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; hanging handlers see `stopping` and return within 0.1 s."""
        self.stopping.set()
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        deadline = time.monotonic() + 2
        while self._active and time.monotonic() < deadline:
            time.sleep(0.02)

    def __enter__(self) -> FakeAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------- for tests
    @property
    def port(self) -> int:
        return self._server.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def push(self, *scripts: Script) -> None:
        with self._lock:
            self.scripts.extend(scripts)

    def message_requests(self) -> list[Request]:
        """The POST /v1/messages requests, side requests included."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0] == "/v1/messages"]

    def wait_for_messages(self, count: int = 1, timeout: float = 10.0) -> bool:
        """Wait (polling every 50 ms) until `count` message requests have arrived."""
        deadline = time.monotonic() + timeout
        while len(self.message_requests()) < count:
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.05)
        return True

    def env(
        self,
        home: str | os.PathLike[str],
        api_key: str | None = "sk-test",
        oauth_token: str | None = None,
    ) -> dict[str, str]:
        """Environment for an offline `claude` talking to this server (add PATH yourself).

        A usage limit reads as such only with `oauth_token` (pass api_key=None)."""
        env = {
            "ANTHROPIC_BASE_URL": self.base_url,
            "HOME": str(home),
            "DISABLE_TELEMETRY": "1",
            "DISABLE_ERROR_REPORTING": "1",
            "DISABLE_AUTOUPDATER": "1",
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "API_TIMEOUT_MS": "5000",
        }
        if api_key:
            env["ANTHROPIC_API_KEY"] = api_key
        if oauth_token:
            env["CLAUDE_CODE_OAUTH_TOKEN"] = oauth_token
        return env

    # ------------------------------------------------------------- for the handler
    def record(self, request: Request) -> None:
        with self._lock:
            self.requests.append(request)

    def count_handler(self, delta: int) -> None:
        with self._lock:
            self._active += delta

    def next_script(self, request: Request) -> Script:
        if _is_side_request(request.body):
            return text("OK")
        with self._lock:
            script = self.scripts.popleft() if self.scripts else self.default
            if script.kind == "tool_use" and script.then is not None:
                self.scripts.appendleft(text(script.then))
        return script


def _is_side_request(body: Any) -> bool:
    return isinstance(body, dict) and not body.get("tools")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ThreadingHTTPServer

    @property
    def api(self) -> FakeAPI:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    def handle(self) -> None:
        self.api.count_handler(+1)
        try:
            super().handle()
        finally:
            self.api.count_handler(-1)

    # ------------------------------------------------------------- routing
    def do_HEAD(self) -> None:
        self._record(None)
        self._send(200, b"", "text/plain")

    def do_GET(self) -> None:
        request = self._record(None)
        path = request.path.split("?")[0]
        if path.startswith("/v1/models"):
            self._send_json(200, _models(path))
        elif path == "/":
            self._send(200, b"OK", "text/plain")
        else:
            self._send_error(404, f"no route for GET {path}")

    def do_POST(self) -> None:
        request = self._record(self._read_json())
        path = request.path.split("?")[0]
        if path == "/v1/messages/count_tokens":
            self._send_json(200, {"input_tokens": 42})
        elif path == "/v1/messages" and isinstance(request.body, dict):
            self._answer(request)
        elif path == "/v1/messages":
            self._send_error(400, "the body is not a JSON object")
        else:
            self._send_error(404, f"no route for POST {path}")

    # ------------------------------------------------------------- messages
    def _answer(self, request: Request) -> None:
        script = self.api.next_script(request)
        request.script = "side" if _is_side_request(request.body) else script.kind
        if script.kind == "error":
            self._send_error(script.status, str(script.reply), script.headers)
        elif script.kind == "hang":
            self._hang(request, script.partial)
        else:
            self._send_message(request, _content(script, request), _stop_reason(script))

    def _send_message(self, request: Request, content: list[dict], stop: str) -> None:
        model = str(request.body.get("model", "claude-fake"))
        message = _message(model, content, stop)
        if request.body.get("stream"):
            self._send(200, _sse(message), "text/event-stream")
        else:
            self._send_json(200, message)

    def _hang(self, request: Request, partial: bool) -> None:
        if partial:
            self._start_stream(str(request.body.get("model", "claude-fake")))
        deadline = time.monotonic() + HANG_LIMIT
        while time.monotonic() < deadline and not self.api.stopping.wait(0.1):
            if self._client_gone():
                request.aborted = True
                break
        self.close_connection = True

    def _start_stream(self, model: str) -> None:
        start = _message(model, [], None)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(_event("message_start", {"type": "message_start", "message": start}))
        self.wfile.flush()

    def _client_gone(self) -> bool:
        readable, _, _ = select.select([self.connection], [], [], 0)
        if not readable:
            return False
        try:
            return self.connection.recv(1, 0x2) == b""  # MSG_PEEK
        except OSError:
            return True

    # ------------------------------------------------------------- plumbing
    def _record(self, body: Any) -> Request:
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(self.command, self.path, headers, body)
        self.api.record(request)
        return request

    def _read_json(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            return None

    def _send_error(self, status: int, message: str, headers: dict[str, str] | None = None):
        kind = _ERROR_TYPES.get(status, "api_error")
        body = {"type": "error", "error": {"type": kind, "message": message}}
        self._send_json(status, body, headers)

    def _send_json(self, status: int, body: Any, headers: dict[str, str] | None = None):
        self._send(status, json.dumps(body).encode(), "application/json", headers)

    def _send(self, status: int, data: bytes, ctype: str, headers: dict[str, str] | None = None):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Connection", "close")
        self.send_header("request-id", f"req_fake_{uuid.uuid4().hex[:12]}")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.close_connection = True


# ----------------------------------------------------------------- message shapes


def _content(script: Script, request: Request) -> list[dict[str, Any]]:
    if script.kind == "tool_use":
        tool_id = f"toolu_fake_{uuid.uuid4().hex[:12]}"
        return [
            {"type": "tool_use", "id": tool_id, "name": script.tool, "input": script.tool_input}
        ]
    reply = script.reply(request) if callable(script.reply) else script.reply
    return [{"type": "text", "text": reply}]


def _stop_reason(script: Script) -> str:
    return "tool_use" if script.kind == "tool_use" else "end_turn"


def _message(model: str, content: list[dict[str, Any]], stop: str | None) -> dict[str, Any]:
    return {
        "id": f"msg_fake_{uuid.uuid4().hex[:12]}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
    }


def _sse(message: dict[str, Any]) -> bytes:
    start = dict(message, content=[], stop_reason=None)
    events = [_event("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(message["content"]):
        events += _block_events(index, block)
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    usage = {"output_tokens": message["usage"]["output_tokens"]}
    events.append(
        _event("message_delta", {"type": "message_delta", "delta": delta, "usage": usage})
    )
    events.append(_event("message_stop", {"type": "message_stop"}))
    return b"".join(events)


def _block_events(index: int, block: dict[str, Any]) -> list[bytes]:
    if block["type"] == "tool_use":
        empty = dict(block, input={})
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        empty = dict(block, text="")
        delta = {"type": "text_delta", "text": block["text"]}
    start = {"type": "content_block_start", "index": index, "content_block": empty}
    step = {"type": "content_block_delta", "index": index, "delta": delta}
    return [
        _event("content_block_start", start),
        _event("content_block_delta", step),
        _event("content_block_stop", {"type": "content_block_stop", "index": index}),
    ]


def _event(name: str, data: dict[str, Any]) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


def _models(path: str) -> dict[str, Any]:
    model = {
        "type": "model",
        "id": "claude-fake",
        "display_name": "Claude Fake",
        "created_at": "2025-01-01T00:00:00Z",
    }
    if path.rstrip("/") != "/v1/models":
        return dict(model, id=path.rsplit("/", 1)[-1])
    return {"data": [model], "has_more": False, "first_id": "claude-fake", "last_id": "claude-fake"}
