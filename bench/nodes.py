#!/usr/bin/env python3
"""Scaling of the postgres backend: N short tasks (the fake agent sleeping S seconds)
through one head and 1, 2, 3 nodes on this machine, against a private PostgreSQL.

    .venv/bin/python bench/nodes.py [--tasks 20] [--sleep 2] [--nodes 1 2 3]

Baseline, in the same run: tasks x sleep / nodes, the time the agents alone need.
Each run starts on a fresh database and root; the clock runs from the moment all
tasks are queued (nodes already up) to the last record in completed.json.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "support"))

from helpers import queue_ids, records, wait_for  # noqa: E402
from pgcluster import Cluster, find_bindir  # noqa: E402
from pgnodes import NodeProcess, head, setup_root  # noqa: E402


def one_run(cluster: Cluster, database: str, tasks: int, sleep: float, nodes: int) -> float:
    import psycopg

    with psycopg.connect(cluster.dsn(), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}"')
    root = Path(tempfile.mkdtemp(prefix="bench-nodes-")) / "root"
    setup_root(root, cluster.dsn(database), "[queue]\nhigh_watermark = 1000\nlow_watermark = 1\n")
    runner = head(root).start()
    workers = []
    from pipeline.postgres import db

    try:

        with db.connect(cluster.dsn(database)) as conn:
            schema_made = "SELECT to_regclass('claude_runner_nodes')"
            wait_for(lambda: conn.execute(schema_made).fetchone()[0], timeout=30)
            for index in range(nodes):
                workers.append(NodeProcess(root, f"account-{index}", f"n{index}").start(conn))
        entries = [{"id": f"t{i:03d}", "prompt": f"task {i}\n@sleep {sleep}"} for i in range(tasks)]
        from helpers import write_json

        started = time.monotonic()
        write_json(root / "inbox" / "all.json", {"list": entries})
        wait_for(lambda: len(records(root, "completed")) == tasks, timeout=tasks * sleep + 120,
                 interval=0.05)
        elapsed = time.monotonic() - started
        assert queue_ids(root) == []
        with db.connect(cluster.dsn(database)) as conn:
            spans = [row[0] for row in conn.execute(
                "SELECT extract(epoch FROM ended_at - started_at) FROM claude_runner_attempts")]
        attempt = statistics.median(float(x) for x in spans)
        between = elapsed * nodes / tasks - attempt
        print(f"  median attempt (claim to recorded end, agent start included) {attempt:.2f} s; "
              f"per task outside attempts, per node: {between * 1000:.0f} ms")
        return elapsed
    finally:
        for worker in workers:
            worker.stop()
        runner.stop()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tasks", type=int, default=20)
    parser.add_argument("--sleep", type=float, default=2.0)
    parser.add_argument("--nodes", type=int, nargs="+", default=[1, 2, 3])
    args = parser.parse_args()
    bindir = find_bindir()
    if bindir is None:
        raise SystemExit("PostgreSQL binaries not found (apt-get install postgresql)")
    cluster = Cluster(bindir)
    cluster.init()
    cluster.start()
    try:
        first: float | None = None
        for count in args.nodes:
            elapsed = one_run(cluster, f"bench_{count}", args.tasks, args.sleep, count)
            first = first or elapsed
            floor = args.tasks * args.sleep / count
            print(f"{args.tasks} tasks x {args.sleep:g} s over {count} node(s): {elapsed:.1f} s, "
                  f"{args.tasks / elapsed:.2f} tasks/s; agents alone {floor:.1f} s "
                  f"({elapsed / floor:.2f}x); {first / elapsed:.2f}x the first run")
    finally:
        cluster.stop("immediate")
        cluster.remove()


if __name__ == "__main__":
    main()
