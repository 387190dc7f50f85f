"""A head and nodes of the postgres backend as real processes on one temp root."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from helpers import REPO, DaemonProcess, cli, history, records, wait_for, write_settings

FAST_BACKEND = """
[backend]
kind = "postgres"
lease_seconds = 4
renew_every = 0.5
start_grace = 1
reap_every = 1
"""


def setup_root(root: Path, dsn: str, extra: str = "") -> None:
    for folder in ("tasks", "inbox", "logs"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    write_settings(root, FAST_BACKEND + f'dsn = "{dsn}"\n' + extra)


class NodeProcess(DaemonProcess):
    """`claude-runner node` as a real subprocess on the head's root."""

    def __init__(self, root: Path, account: str, name: str, slots: int = 1,
                 env: dict[str, str] | None = None) -> None:
        super().__init__(root, env, output=root / f"node-{name}.txt")
        self.account, self.name, self.slots = account, name, slots

    def start(self, conn: Any = None) -> NodeProcess:  # type: ignore[override]
        with open(self.output_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "pipeline", "--root", str(self.root), "node",
                 "--account", self.account, "--name", self.name, "--slots", str(self.slots)],
                stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO)
        if conn is not None:
            wait_for(lambda: self.registered(conn), timeout=20, message=f"node {self.name}")
        return self

    def registered(self, conn: Any) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"node exited {self.process.returncode}: {self.output()}")
        row = conn.execute("SELECT pid FROM claude_runner_nodes WHERE name = %s AND "
                           "stopped_at IS NULL", (self.name,)).fetchone()
        return bool(row and row[0] == self.process.pid)

    def text(self) -> str:
        return self.output()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGCONT)  # a test may have frozen it
        super().stop()


def head(root: Path) -> DaemonProcess:
    return DaemonProcess(root, output=root / "head-output.txt")


def terminal_counts(root: Path) -> tuple[Counter, Counter]:
    files = Counter(r["id"] for which in ("completed", "failed") for r in records(root, which))
    return files, Counter(r["id"] for r in history(root))


def done(root: Path, ids: list[str]) -> bool:
    files, lines = terminal_counts(root)
    return all(files[i] >= 1 and lines[i] >= 1 for i in ids)


def assert_one_record_each(root: Path, ids: list[str]) -> None:
    """Every task id in exactly one terminal record, in the files and in history."""
    files, lines = terminal_counts(root)
    assert {i: files[i] for i in ids} == dict.fromkeys(ids, 1), files
    assert {i: lines[i] for i in ids} == dict.fromkeys(ids, 1), lines
    assert set(files) == set(ids) and set(lines) == set(ids)


def record(root: Path, task_id: str) -> dict[str, Any]:
    found = [r for w in ("completed", "failed") for r in records(root, w) if r["id"] == task_id]
    assert len(found) == 1, found
    return found[0]


class Cluster:
    def __init__(self, root, dsn) -> None:
        self.root, self.dsn = root, dsn
        self.head = head(root)
        self.nodes: dict[str, NodeProcess] = {}
        self.conn = None

    def start(self) -> Cluster:
        self.head.start()
        from pipeline.postgres import db

        self.conn = db.connect(self.dsn)
        wait_for(lambda: self._schema(), message="the head's schema")
        return self

    def _schema(self) -> bool:
        return self.conn.execute("SELECT to_regclass('claude_runner_nodes')").fetchone()[0]

    def node(self, name: str, account: str | None = None, **kwargs) -> NodeProcess:
        process = NodeProcess(self.root, account or f"acct-{name}", name, **kwargs)
        self.nodes[name] = process
        return process.start(self.conn)

    def add(self, prompt: str, *args: str) -> str:
        done_ = cli(self.root, "add", prompt, *args)
        assert done_.returncode == 0, done_.stderr
        return done_.stdout.strip()

    def state(self, task_id: str) -> str | None:
        row = self.conn.execute("SELECT state FROM claude_runner_tasks WHERE id = %s",
                                (task_id,)).fetchone()
        return row[0] if row else None

    def lease(self, task_id: str):
        return self.conn.execute("SELECT node, token::text FROM claude_runner_leases "
                                 "WHERE task_id = %s", (task_id,)).fetchone()

    def stop(self) -> None:
        for process in self.nodes.values():
            process.stop()
        self.head.stop()
        if self.conn:
            self.conn.close()


def wait_done(cluster: Cluster, ids: list[str], timeout: float = 40) -> None:
    wait_for(lambda: done(cluster.root, ids), timeout=timeout,
             message=f"records of {ids}; head: {cluster.head.output()[-1500:]}")
