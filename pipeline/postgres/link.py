"""A node's own connection (its loop thread's): opened on demand, dropped on any
trouble and opened again at the next use; registration of the node."""

from __future__ import annotations

import contextlib
import os
import socket
from typing import Any

from pipeline.postgres import db, schema


class NodeLink:
    def __init__(self, dsn: str, name: str) -> None:
        self.dsn = dsn
        self.name = name
        self._conn: Any = None

    def conn(self) -> Any:
        if self._conn is None or self._conn.closed:
            self._conn = db.connect(self.dsn, f"claude-runner-node-{self.name}")
        return self._conn

    def drop(self) -> None:
        with contextlib.suppress(Exception):
            if self._conn is not None:
                self._conn.close()
        self._conn = None

    def ready(self, account: str, slots: int) -> str | None:
        """None once the schema is there and the node is registered; else why not."""
        try:
            problems = schema.problems(self.conn())
            if not problems:
                self._register(account, slots)
                return None
            return "; ".join(problems)
        except Exception as error:  # noqa: BLE001 - the database is down: keep trying
            self.drop()
            return str(error).strip()[:200]

    def _register(self, account: str, slots: int) -> None:
        conn = self.conn()
        conn.execute(
            "INSERT INTO claude_runner_nodes (name, account, host, pid, slots) VALUES "
            "(%s, %s, %s, %s, %s) ON CONFLICT (name) DO UPDATE SET account = EXCLUDED.account, "
            "host = EXCLUDED.host, pid = EXCLUDED.pid, slots = EXCLUDED.slots, "
            "started_at = now(), seen_at = now(), stopped_at = NULL",
            (self.name, account, socket.gethostname(), os.getpid(), slots))
        conn.execute("INSERT INTO claude_runner_accounts (name) VALUES (%s) "
                     "ON CONFLICT (name) DO NOTHING", (account,))

    def mark_stopped(self) -> None:
        with contextlib.suppress(Exception):
            self.conn().execute("UPDATE claude_runner_nodes SET stopped_at = now() "
                                "WHERE name = %s", (self.name,))
            db.notify(self.conn(), "node stopped")  # the head re-checks the pauses
        self.drop()
