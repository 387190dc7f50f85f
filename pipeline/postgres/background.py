"""The threads beside a node's (or the head's) loop, each with its own connection.

`Renewer` extends the node's leases every `renew_every` seconds and reports a lease
lost (reaped: the attempt is fenced), a cancel asked for, or - after failing to
renew for `lease_seconds - renew_every` - that the node must end its agents itself
before the reaper hands their tasks to someone else (self-fencing). Database errors
are caught and retried, so a short database restart costs nothing.
`Listener` turns NOTIFYs into wake-ups of the loop.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable

from pipeline.log import logger
from pipeline.postgres import db

RETRY_PAUSE = 0.5  # seconds between reconnection attempts


class _Worker(threading.Thread):
    def __init__(self, dsn: str, name: str) -> None:
        super().__init__(name=name, daemon=True)
        self.dsn = dsn
        self.stopped = threading.Event()
        self.conn = None

    def stop(self) -> None:
        self.stopped.set()

    def _connection(self):  # noqa: ANN202
        if self.conn is None or self.conn.closed:
            self.conn = db.connect(self.dsn, f"claude-runner-{self.name}")
        return self.conn

    def _drop(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):  # closing a broken connection
                self.conn.close()
        self.conn = None


class Renewer(_Worker):
    def __init__(self, dsn: str, node: str, lease_seconds: float, renew_every: float,
                 tokens: Callable[[], list[str]], report: Callable[[str, str], None]) -> None:
        super().__init__(dsn, "renewer")
        self.node = node
        self.lease_seconds = lease_seconds
        self.renew_every = renew_every
        self.tokens = tokens
        self.report = report  # (kind: "lost" | "cancel" | "fence", token)
        self.last_ok = time.monotonic()
        self.failing = False

    def run(self) -> None:
        while not self.stopped.wait(self.renew_every):
            self.beat()

    def beat(self) -> None:
        tokens = self.tokens()
        sent = time.monotonic()
        try:
            conn = self._connection()
            from pipeline.postgres.leases import renew

            held, cancels = renew(conn, tokens, self.lease_seconds) if tokens else (set(), set())
            conn.execute("UPDATE claude_runner_nodes SET seen_at = now() WHERE name = %s",
                         (self.node,))
        except Exception as error:  # noqa: BLE001 - any database trouble: retry next beat
            self._drop()
            self._failed(error, tokens)
            return
        if self.failing:
            logger.info("lease renewal works again")
        self.failing, self.last_ok = False, sent
        for token in tokens:
            if token not in held:
                self.report("lost", token)
            elif token in cancels:
                self.report("cancel", token)

    def _failed(self, error: Exception, tokens: list[str]) -> None:
        if not self.failing:
            logger.warning("cannot renew leases ({}); retrying", str(error).strip()[:200])
        self.failing = True
        if time.monotonic() - self.last_ok > self.lease_seconds - self.renew_every:
            for token in tokens:
                self.report("fence", token)


class Listener(_Worker):
    def __init__(self, dsn: str, channels: list[str], wake: Callable[[], None]) -> None:
        super().__init__(dsn, "listener")
        self.channels = channels
        self.wake = wake

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                conn = self._connection()
                for channel in self.channels:
                    conn.execute(f'LISTEN "{channel}"')
                self.wake()  # anything may have happened while we were not listening
                while not self.stopped.is_set():
                    for _ in conn.notifies(timeout=1.0, stop_after=1):
                        self.wake()
            except Exception:  # noqa: BLE001 - reconnect after any database trouble
                self._drop()
                self.stopped.wait(RETRY_PAUSE)
        self._drop()
