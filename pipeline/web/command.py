"""`claude-runner web [--host H] [--port P]`: serve the dashboard until Ctrl-C / SIGTERM."""

from __future__ import annotations

import importlib.util
import socket
import sys
from argparse import Namespace

from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout

EXTRA = ("starlette", "uvicorn", "sse_starlette", "jinja2", "cron_descriptor")
INSTALL_HINT = "pip install 'claude-runner[web]'  (in a checkout: pip install -e '.[web]')"


def missing_modules() -> list[str]:
    return [name for name in EXTRA if importlib.util.find_spec(name) is None]


def bind(host: str, port: int) -> socket.socket:
    """The listening socket (port 0: a free one), made here so the URL names the real port."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # proto IPPROTO_TCP, so that asyncio sets TCP_NODELAY on every accepted connection
    # (without it each keep-alive response waits ~40 ms for a delayed ACK)
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def web_command(layout: Layout, settings: Settings, args: Namespace) -> int:
    missing = missing_modules()
    if missing:
        print(f"claude-runner: web needs the optional [web] extra (missing: {', '.join(missing)})"
              f"; install it with: {INSTALL_HINT}", file=sys.stderr)
        return 2
    import uvicorn

    from pipeline.web.app import create_app
    from pipeline.web.security import Policy, is_loopback, load_token

    host = args.host or settings.web_host
    port = settings.web_port if args.port is None else args.port
    loopback = is_loopback(host)
    token = None if loopback else load_token(layout.root)
    sock = bind(host, port)
    actual = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{actual}/" + (f"?token={token}" if token else "")
    print(f"claude-runner web: serving {layout.root} on {url}", flush=True)
    if token:
        print("  (open that URL once; the browser then keeps the token in a cookie)", flush=True)
    app = create_app(layout, settings, Policy(token=token, loopback=loopback))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on",
                            timeout_graceful_shutdown=1)
    uvicorn.Server(config).run(sockets=[sock])
    return 0
