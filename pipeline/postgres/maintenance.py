"""procrastinate's `maintenance` queue, served on the head by procrastinate's own
worker: a periodic job (every `reap_every` seconds) runs the reaper. It has a queue
of its own so it never waits behind hours-long agent jobs; nodes never take it.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.log import logger
from pipeline.postgres import db
from pipeline.postgres.dsn import with_timeouts
from pipeline.postgres.leases import reap
from pipeline.postgres.link import NodeLink

RESTART_PAUSE = 2.0
KEEP_DAYS = 7  # finished jobs and shipped logs are pruned after this many days


def build_app(dsn: str, settings: Settings) -> Any:
    import logging

    import procrastinate

    # its pool retries a database that is down with a line per try; the head says it once
    logging.getLogger("psycopg.pool").setLevel(logging.ERROR)

    app = procrastinate.App(connector=procrastinate.PsycopgConnector(
        conninfo=with_timeouts(dsn, "claude-runner-maintenance")))
    every = max(1, int(settings.backend_reap_every))
    reaper = NodeLink(dsn, "reaper")  # one connection, kept between runs

    @app.periodic(cron=f"* * * * * */{every}")
    @app.task(queue=db.MAINTENANCE_QUEUE, name="claude_runner.reap",
              queueing_lock="claude_runner.reap")
    def reap_expired_leases(timestamp: int) -> None:
        try:
            conn = reaper.conn()
            for task_id in reap(conn, settings, settings.backend_start_grace, clock.now()):
                logger.bind(task=task_id).warning("lease expired: taken back by the reaper")
        except Exception:
            reaper.drop()  # a new connection next time
            raise

    @app.periodic(cron="17 * * * *")
    @app.task(queue=db.MAINTENANCE_QUEUE, name="claude_runner.prune",
              queueing_lock="claude_runner.prune")
    def prune_finished(timestamp: int) -> None:
        with db.connect(dsn, "claude-runner-prune") as conn:
            prune(conn, KEEP_DAYS)

    return app


def prune(conn: Any, days: int) -> None:
    """Jobs of tasks finished (and archived) days ago, and the attempts' shipped logs
    (copied to the head long since). Task rows stay: they make admission idempotent."""
    with conn.transaction():
        conn.execute(
            "DELETE FROM procrastinate_jobs j USING claude_runner_tasks t, claude_runner_results r "
            "WHERE t.job_id = j.id AND t.state = 'done' AND r.task_id = t.id AND "
            "r.archived_at < now() - make_interval(days => %s)", (days,))
        conn.execute("UPDATE claude_runner_attempts SET log = NULL WHERE log_copied AND "
                      "log IS NOT NULL AND ended_at < now() - make_interval(days => %s)", (days,))


class Maintenance(threading.Thread):
    """procrastinate's worker on its own event loop; restarted after any failure
    (a database restart) until `stop()`."""

    def __init__(self, dsn: str, settings: Settings) -> None:
        super().__init__(name="maintenance", daemon=True)
        self.app = build_app(dsn, settings)
        # LISTEN wakes the worker too, but may miss a job deferred while it fetches
        self.every = float(max(1, int(settings.backend_reap_every)))
        self.stopped = threading.Event()
        self.worker: Any = None

    def run(self) -> None:
        while not self.stopped.is_set():
            try:
                asyncio.run(self._serve())
            except Exception as error:  # noqa: BLE001 - restarted after a pause
                logger.warning("maintenance worker stopped ({}); restarting",
                               str(error).strip()[:200])
            self.stopped.wait(RESTART_PAUSE)

    async def _serve(self) -> None:
        from procrastinate.worker import Worker

        async with self.app.open_async():
            self.worker = Worker(self.app, queues=[db.MAINTENANCE_QUEUE], name="maintenance",
                                 install_signal_handlers=False, delete_jobs="successful",
                                 fetch_job_polling_interval=self.every)
            if self.stopped.is_set():
                return
            await self.worker.run()

    def stop(self) -> None:
        self.stopped.set()
        if self.worker is not None:
            self.worker.stop()
        self.join(timeout=5)
