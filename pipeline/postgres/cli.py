"""The CLI's entry points for the postgres backend: `node`, `cancel`, `clear`, and
what `status` adds (nodes, accounts, running tasks)."""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout

EXIT_OK, EXIT_UNKNOWN, EXIT_BAD_INPUT = 0, 1, 2


def _fail(message: str, code: int) -> int:
    print(f"claude-runner: {message}", file=sys.stderr)
    return code


def node(layout: Layout, settings: Settings, args: Namespace) -> int:
    from pipeline import log
    from pipeline.postgres.node import Node

    if settings.backend_kind != "postgres":
        return _fail('node needs [backend] kind = "postgres" and a dsn in runner.toml',
                     EXIT_BAD_INPUT)
    if args.slots < 1:
        return _fail("--slots must be at least 1", EXIT_BAD_INPUT)
    worker = Node(layout.root, settings, args.account, args.slots, args.name)
    worker.home.ensure()
    log.setup(worker.home)
    return worker.serve()


def _connect(settings: Settings) -> Any:
    from pipeline.postgres import db

    return db.connect(settings.backend_dsn, "claude-runner-cli")


def cancel(layout: Layout, settings: Settings, args: Namespace) -> int:
    from pipeline.postgres.tasks import Cancelled
    from pipeline.postgres.tasks import cancel as cancel_task

    try:
        with _connect(settings) as conn:
            done = cancel_task(conn, args.id, clock.now())
    except Exception as error:  # noqa: BLE001 - one clear line
        return _fail(f"database: {str(error).strip()[:200]}", EXIT_UNKNOWN)
    if done is None:
        return _fail(f"no queued or running task {args.id}", EXIT_UNKNOWN)
    if done is Cancelled.QUEUED:
        print(f"cancelled {args.id} (was queued)")
    else:
        print(f"cancelling {args.id}: its node ends the agent within renew_every seconds")
    return EXIT_OK


def clear(layout: Layout, settings: Settings, args: Namespace) -> int:
    from pipeline.postgres.tasks import cancel as cancel_task
    from pipeline.postgres.tasks import queued

    if not args.yes:
        return _fail("clear removes every queued task; add --yes to confirm", EXIT_BAD_INPUT)
    try:
        with _connect(settings) as conn:
            count = sum(cancel_task(conn, task.id, clock.now()) is not None
                        for task in queued(conn))
    except Exception as error:  # noqa: BLE001 - one clear line
        return _fail(f"database: {str(error).strip()[:200]}", EXIT_UNKNOWN)
    print(f"cancelled {count} queued task(s)")
    return EXIT_OK
