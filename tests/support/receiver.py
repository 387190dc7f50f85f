"""A local HTTP receiver on 127.0.0.1 (port 0) standing in for webhook, ntfy and
healthchecks targets. It records every request; it can answer 500 to the first N
requests, or hang (hold the connection unanswered) to play a wedged service."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


class Receiver:
    def __init__(self, fail_first: int = 0, hang: bool = False) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.hang = hang
        self.release = threading.Event()
        self.lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    def url(self, scheme: str, path: str) -> str:
        return f"{scheme}://127.0.0.1:{self.port}{path}"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def messages(self) -> list[dict[str, Any]]:
        """The JSON bodies of the POSTs answered 200 (what apprise's json:// sends)."""
        with self.lock:
            return [r["json"] for r in self.requests if r["method"] == "POST" and r["ok"]]

    def paths(self, method: str = "GET") -> list[str]:
        with self.lock:
            return [r["path"] for r in self.requests if r["method"] == method]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *_: object) -> None:
                pass

            def do_GET(self) -> None:  # noqa: N802
                self._answer(b"")

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                self._answer(self.rfile.read(length))

            def _answer(self, body: bytes) -> None:
                try:
                    parsed = json.loads(body) if body else None
                except ValueError:
                    parsed = None
                with receiver.lock:
                    ok = len(receiver.requests) >= receiver.fail_first
                    receiver.requests.append({"method": self.command, "path": self.path,
                                              "json": parsed, "ok": ok and not receiver.hang})
                if receiver.hang:
                    receiver.release.wait(60)
                    return
                self.send_response(200 if ok else 500)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"ok")

        return Handler
