"""Who may use the page: a loopback binding is open to this machine; any other binding
needs the token (given once as `?token=`, then kept in an HttpOnly cookie). Every
state-changing request must come from the page's own origin, and the Host header must
name the binding (no DNS rebinding). Pure ASGI, so server-sent events stream through."""

from __future__ import annotations

import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from starlette.datastructures import URL
from starlette.requests import Request
from starlette.responses import PlainTextResponse, RedirectResponse, Response
from starlette.types import ASGIApp, Receive, Scope, Send

COOKIE = "claude_runner_token"
TOKEN_ENV = "CLAUDE_RUNNER_WEB_TOKEN"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
LOOPBACK_NAMES = {"localhost", "127.0.0.1", "::1"}
HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def is_loopback(host: str) -> bool:
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def token_path(root: Path) -> Path:
    return root / "web.token"


def load_token(root: Path, environ: dict[str, str] | None = None) -> str:
    """$CLAUDE_RUNNER_WEB_TOKEN, else `<root>/web.token` (created, mode 0600, on first use)."""
    env = os.environ if environ is None else environ
    if env.get(TOKEN_ENV):
        return env[TOKEN_ENV]
    path = token_path(root)
    kept = path.read_text(encoding="utf-8").strip() if path.exists() else ""
    if kept:
        return kept
    token = secrets.token_urlsafe(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(token + "\n")
    return token


@dataclass(frozen=True)
class Policy:
    token: str | None  # None: no token asked (loopback binding without one)
    loopback: bool     # bound to a loopback address: the Host header must be loopback too

    def host_allowed(self, request: Request) -> bool:
        host = request.url.hostname or ""
        return not self.loopback or is_loopback(host)

    def has_token(self, request: Request) -> bool:
        if self.token is None:
            return True
        given = request.cookies.get(COOKIE) or _bearer(request) or ""
        return secrets.compare_digest(given.encode(), self.token.encode())

    def same_origin(self, request: Request) -> bool:
        claimed = request.headers.get("origin") or _origin_of(request.headers.get("referer"))
        if not claimed or claimed == "null":
            return False
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        return claimed.lower() == own.lower()

    def deny(self, request: Request) -> Response | None:
        """The refusal for this request, or None to let it through."""
        if not self.host_allowed(request):
            return PlainTextResponse("unknown Host header", status_code=403)
        if self.token is not None and "token" in request.query_params:
            return self._exchange(request)
        if not self.has_token(request):
            return PlainTextResponse(
                "401: open the URL with ?token=... once (printed at start-up; "
                "the token is in <root>/web.token or $CLAUDE_RUNNER_WEB_TOKEN)", status_code=401)
        if request.method not in SAFE_METHODS and not self.same_origin(request):
            return PlainTextResponse("403: cross-origin request refused", status_code=403)
        return None

    def _exchange(self, request: Request) -> Response:
        """`?token=` once: set the cookie and drop the token from the address bar."""
        given = request.query_params["token"]
        if not secrets.compare_digest(given.encode(), (self.token or "").encode()):
            return PlainTextResponse("401: wrong token", status_code=401)
        rest = [(k, v) for k, v in request.query_params.multi_items() if k != "token"]
        target = URL(path=request.url.path, query=urlencode(rest))
        response = RedirectResponse(str(target), status_code=303)
        response.set_cookie(COOKIE, given, httponly=True, samesite="strict",
                            secure=request.url.scheme == "https")
        return response


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    return header[7:] if header.lower().startswith("bearer ") else None


def _origin_of(url: str | None) -> str | None:
    if not url:
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class Guard:
    """ASGI middleware applying a Policy to every HTTP request, adding the security headers."""

    def __init__(self, app: ASGIApp, policy: Policy) -> None:
        self.app = app
        self.policy = policy

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        refusal = self.policy.deny(Request(scope))
        if refusal is not None:
            refusal.headers.update(HEADERS)
            await refusal(scope, receive, send)
            return

        async def send_with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.lower().encode(), v.encode()) for k, v in HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
