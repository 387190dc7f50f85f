"""Custom metrics for `pm2 monit` / `pm2 describe`, without Node.

PM2 starts every app with a Node IPC channel on the fd named by `NODE_CHANNEL_FD`
(JSON lines), whatever the interpreter. A message `{"type": "axm:monitor", "data":
{name: {"value": v}}}` on it is what `@pm2/io` sends for its metrics: PM2 stores it in
the app's `axm_monitor`, which `pm2 monit` and `pm2 describe` show. Outside PM2 (no
channel) this does nothing; a broken channel turns it off, never the runner.
"""

from __future__ import annotations

import os
from typing import Any

import orjson

CHANNEL = "NODE_CHANNEL_FD"


class Pm2Metrics:
    def __init__(self, environ: dict[str, str] | None = None) -> None:
        value = (os.environ if environ is None else environ).get(CHANNEL, "")
        self.fd: int | None = int(value) if value.isdigit() else None

    def send(self, metrics: dict[str, Any]) -> None:
        if self.fd is None:
            return
        message = {"type": "axm:monitor",
                   "data": {name: {"value": value} for name, value in metrics.items()}}
        try:
            os.write(self.fd, orjson.dumps(message) + b"\n")
        except OSError:
            self.fd = None
