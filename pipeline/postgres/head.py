"""The head: `claude-runner run` with `[backend] kind = "postgres"`.

The same loop as the files backend for everything that is about files - inbox
admission and rejections, the sweep of queue.json, the gate, schedules - but
instead of running the first task itself it moves queue.json's new entries into
the database, rewrites queue.json as a mirror of the queued tasks, archives the
results nodes recorded (exactly once, across restarts), copies their logs, and
serves procrastinate's `maintenance` queue (the reaper). A database that is down
never stops the loop: files keep being admitted, and the rest resumes with it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from pipeline.daemon.loop import Loop
from pipeline.daemon.sources import Signal, SignalKind
from pipeline.domain.clock import iso
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import NotATask, Task, tasks_in, valid_id
from pipeline.log import logger
from pipeline.postgres import db, mirror, schema, tasks
from pipeline.postgres.background import Listener
from pipeline.postgres.collect import ResultCollector
from pipeline.postgres.maintenance import Maintenance
from pipeline.stages import cancel, sweep
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

RETRY_DB = 1.0  # seconds before trying an unreachable database again
HEAD_LOCK = 7_243_118  # a session advisory lock: one head per database


class HeadLoop(Loop):
    def __init__(self, layout: Layout, settings: Settings, post: Callable[[Signal], None], *,
                 events: EventLog):
        super().__init__(layout, settings, post, events=events)
        self.dsn = settings.backend_dsn
        self.conn: Any = None
        self.db_trouble: str | None = None
        self.mirror_file = JsonFile(layout.tasks / "queue.mirror.json", "list")
        self.collector = ResultCollector(layout, self.archive)
        self.listener: Listener | None = None
        self.maintenance: Maintenance | None = None
        self.running_tasks: list[Task] = []
        self.pauses: dict[str, datetime] = {}
        self.whole_pause: datetime | None | str = "unknown"  # written at the first look

    # ----- the tick ----------------------------------------------------------------------
    def tick(self, now: datetime) -> datetime | None:
        wakes: list[datetime | None] = [now + timedelta(seconds=self.settings.poll_interval)]
        if self._readable_queue() is not None:
            wakes.append(self._admit_inbox(now))
        queued = self._readable_queue()
        if queued is not None:  # (no sweep: new entries are validated in _sync_queue)
            wakes.append(self._schedule(tasks_in(queued) + self.running_tasks, now))
        wakes.append(self._with_database(now))
        queued = self._readable_queue()
        if queued is not None:
            self._track_level(len(queued))
        return min(w for w in wakes if w)

    def _with_database(self, now: datetime) -> datetime | None:
        try:
            conn = self._db()
            self._start_services()  # once the schema exists
            self._handle_cancels(now)
            self._sync_queue(conn, now)  # before archiving: see mirror.py on re-admission
            self.collector.collect(conn, now)
            self._track_pauses(conn)
        except CorruptFile as error:
            self._report_damage(error)
        except OSError as error:  # a full disk: the files wait, the database is fine
            logger.error("cannot write the files now ({}); will retry", error)
            return now + timedelta(seconds=RETRY_DB)
        except Exception as error:  # noqa: BLE001 - the database is down or restarting
            self._lost_database(error)
            return now + timedelta(seconds=RETRY_DB)
        if self.db_trouble:
            logger.info("the database is reachable again")
            self.db_trouble = None
        return None

    def _db(self) -> Any:
        if self.conn is None or self.conn.closed:
            conn = db.connect(self.dsn, "claude-runner-head")
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (HEAD_LOCK,)).fetchone()[0]:
                conn.close()
                raise RuntimeError("another head serves this database; run exactly one")
            schema.apply(conn)
            self.conn = conn
        return self.conn

    def _lost_database(self, error: Exception) -> None:
        reason = str(error).strip().splitlines()[0][:200] if str(error).strip() else repr(error)
        if reason != self.db_trouble:
            logger.error("database: {}; files are still admitted, the rest waits", reason)
            self.db_trouble = reason
        with contextlib.suppress(Exception):
            if self.conn is not None:
                self.conn.close()
        self.conn = None

    # ----- queue.json <-> database -------------------------------------------------------
    def _sync_queue(self, conn: Any, now: datetime) -> None:
        def change(data: dict[str, Any]) -> None:
            shown = tasks_in(self.mirror_file.items())
            entries = self._valid_entries(data["list"], {t.id for t in shown}, now)
            ids = list({t.id for t in entries} | {t.id for t in shown})
            for step in mirror.plan(entries, shown, tasks.states(conn, ids)).steps:
                self._apply(conn, step, now)
            data["list"] = [task.to_dict() for task in tasks.queued(conn)]
            self.mirror_file.save({"list": data["list"]})

        self.queue.file.update(change)
        self.queue_seen = (None, [])
        self.running_tasks = [r.entry.task for r in tasks.running(conn)]

    def _valid_entries(self, raw: list[Any], shown: set[str], now: datetime) -> list[Task]:
        """Mirrored entries as they are (the database validated them once); new ones
        validated as the files backend's sweep does, the invalid archived as `invalid`."""
        mirrored: list[Task] = []
        fresh: list[Any] = []
        for entry in raw:
            task = _mirrored(entry, shown)
            if task is None:
                fresh.append(entry)
            else:
                mirrored.append(task)
        split = sweep.split_queue(fresh, self.settings, now)
        for task, errors in split.invalid:
            reason = "; ".join(str(e) for e in errors)
            self.archive.record_end(task, Outcome.INVALID, now, reason, attempts=0)
        return mirrored + split.tasks

    def _apply(self, conn: Any, step: mirror.Step, now: datetime) -> None:
        log = logger.bind(task=step.task_id)
        if step.act is mirror.Act.ADMIT:
            answer = tasks.admit(conn, step.task)
            if answer is tasks.Admitted.NEW:
                log.info("queued in the database")
            else:
                self._ignored(step.task_id, f"a task with this id is {answer}")
        elif step.act is mirror.Act.READMIT:
            if tasks.readmit(conn, step.task):
                log.info("finished task queued again")
            else:
                self._ignored(step.task_id, "its previous result is not archived yet")
        elif step.act is mirror.Act.CANCEL:
            if tasks.cancel(conn, step.task_id, now):
                log.info("removed from queue.json: cancelled")
        else:
            self._ignored(step.task_id, step.reason)

    def _ignored(self, task_id: str, reason: str) -> None:
        logger.bind(task=task_id).warning("queue.json edit not honoured: {}", reason)
        self.events.emit(EventKind.QUEUE_EDIT_IGNORED, id=task_id, reason=reason)

    def _handle_cancels(self, now: datetime) -> None:
        """Request files (from a files-backend CLI, or written by hand) go to the database."""
        for request in cancel.pending_requests(self.layout):
            if valid_id(request.name):
                tasks.cancel(self._db(), request.name, now)
            request.unlink(missing_ok=True)

    # ----- accounts ----------------------------------------------------------------------
    def _track_pauses(self, conn: Any) -> None:
        rows = conn.execute("SELECT name, paused_until, pause_reason FROM claude_runner_accounts "
                            "WHERE paused_until > now()").fetchall()
        current = {name: until for name, until, _ in rows}
        for name, until, reason in rows:
            if self.pauses.get(name) != until:
                logger.warning("account {} paused until {} ({})", name, iso(until), reason)
                self.events.emit(EventKind.PAUSE_START, account=name, until=iso(until),
                                 reason=reason)
        for name in set(self.pauses) - set(current):
            logger.info("account {}: pause over", name)
            self.events.emit(EventKind.PAUSE_END, account=name, until=iso(self.pauses[name]))
        self.pauses = current
        self._whole_pause(conn, current)

    def _whole_pause(self, conn: Any, paused: dict[str, datetime]) -> None:
        """state.json's `pausedUntil` (status, the contract's pause): set while every
        account with a live node is paused - nothing can run until the earliest reset."""
        stale = max(3 * self.settings.backend_renew_every, 10.0)
        live = {row[0] for row in conn.execute(
            "SELECT DISTINCT account FROM claude_runner_nodes WHERE stopped_at IS NULL AND "
            "seen_at > now() - make_interval(secs => %s)", (stale,)).fetchall()}
        until = min(paused[a] for a in live) if live and live <= set(paused) else None
        if until != self.whole_pause:
            self.queue.state.set_pause(until, "every account is paused" if until else None)
            self.whole_pause = until

    # ----- services ----------------------------------------------------------------------
    def _start_services(self) -> None:
        if self.listener is None:
            self.listener = Listener(self.dsn, [db.CHANNEL],
                                     lambda: self.post(Signal(SignalKind.DB)))
            self.listener.start()
            self.maintenance = Maintenance(self.dsn, self.settings)
            self.maintenance.start()

    def begin_stop(self) -> None:
        super().begin_stop()
        if self.listener:
            self.listener.stop()
        if self.maintenance:
            self.maintenance.stop()


def _mirrored(entry: Any, shown: set[str]) -> Task | None:  # noqa: ANN401 - a JSON value
    """The entry as a task when it is one the mirror showed (by id), else None."""
    try:
        task = Task.from_dict(entry)
    except NotATask:
        return None
    return task if task.id in shown else None
