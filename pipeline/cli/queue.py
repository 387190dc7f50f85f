"""The CLI's queue commands. Each returns an exit code; none imports the daemon
or watchdog, so `add` starts fast and works while the daemon is down."""

from __future__ import annotations

import os
import shutil
import sys
import time
from argparse import Namespace
from collections.abc import Callable
from typing import Any

import orjson

from pipeline.cli.add_input import AddInputError, prompt_of, timeout_ms
from pipeline.cli.result import Result, Status, done, refused, show
from pipeline.cli.status import collect
from pipeline.domain import clock
from pipeline.domain.attempt import Attempt
from pipeline.domain.record import Record, records_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import Task, admit_fields
from pipeline.domain.validation import validate
from pipeline.stages.archive import Archive
from pipeline.stages.cancel import cancel_all, cancel_queued, request
from pipeline.storage.events import EventLog
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps
from pipeline.storage.layout import Layout
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue
from pipeline.storage.state import StateFile
from pipeline.storage.waiting import record_refusal, waiting_roles

EXIT_OK, EXIT_UNKNOWN, EXIT_BAD_INPUT, EXIT_FULL = 0, 1, 2, 75


def fail(message: str, code: int) -> int:
    print(f"claude-runner: {message}", file=sys.stderr)
    return code


def task_from_args(args: Namespace) -> dict[str, Any]:
    """Raises AddInputError for a prompt or timeout that cannot be read."""
    task: dict[str, Any] = {"prompt": prompt_of(args)}
    optional = {
        "workspace": args.workspace, "timeout": timeout_ms(args.timeout), "id": args.id,
        "name": args.name, "role": args.role, "priority": args.priority,
        "model": args.model, "maxTurns": args.max_turns, "maxRetries": args.max_retries,
    }
    task.update({k: v for k, v in optional.items() if v is not None})
    if args.workspace:
        task["workspace"] = os.path.abspath(args.workspace)
    if args.yes:
        task["autoApprove"] = True
    if args.tools:
        task["allowedTools"] = [t.strip() for t in args.tools.split(",") if t.strip()]
    return task


def add(layout: Layout, settings: Settings, args: Namespace) -> int:
    try:
        task = task_from_args(args)
    except (AddInputError, UnicodeDecodeError) as error:
        return fail(str(error), EXIT_BAD_INPUT)
    result = add_task(layout, settings, task)
    if result.ok and args.json:
        print(dumps(result.task).decode().rstrip("\n"))
        return EXIT_OK
    return show(result)


def add_task(layout: Layout, settings: Settings, task: dict[str, Any]) -> Result:
    """Validate and enqueue one task durably; the message is its id."""
    errors = validate(task, settings)
    if errors:
        return refused(Status.BAD_INPUT, "; ".join(str(e) for e in errors), tuple(errors))
    admitted = admit_fields(task, clock.now())
    problem = _preflight(admitted, settings)
    if problem:  # refused now, with the reason, rather than accepted and failed later
        return refused(Status.BAD_INPUT, problem)
    return enqueue_one(layout, settings, admitted.to_dict())


def enqueue_one(layout: Layout, settings: Settings, task: dict[str, Any]) -> Result:
    """Enqueue a task durably; the message is its id (or why it was refused)."""
    try:
        admitted = TaskQueue(layout, settings).enqueue([task], clock.now())
    except QueueFull:
        if task.get("role"):
            record_refusal(StateFile(layout), task["role"], clock.now())
        return refused(Status.FULL, "the queue is full; try again later (or use --priority high)")
    except DuplicateIds as duplicate:
        return refused(Status.BAD_INPUT, str(duplicate), tuple(duplicate.errors))
    except CorruptFile as error:
        return refused(Status.BROKEN, f"{error}; fix it first (nothing was written)")
    return done(admitted[0].id, admitted[0].id, task=admitted[0].to_dict())


def _preflight(task: Task, settings: Settings) -> str | None:
    """The run stage's own check (autoApprove as root without a sandbox), at add time."""
    if task.auto_approve is not True:
        return None
    from pipeline.agent.preflight import preflight
    from pipeline.agent.presets import build_env

    return preflight(task, settings, build_env(settings))


def queue_check(layout: Layout, settings: Settings, args: Namespace) -> int:
    queue = TaskQueue(layout, settings)  # only the length and the gate: no task is read
    try:
        length = len(queue.entries())
    except CorruptFile as error:  # queue.json is damaged: not "ok"
        return fail(f"tasks/queue.json cannot be read: level unknown ({error.reason})",
                    EXIT_UNKNOWN)
    level = queue.level(length).value
    if args.json:
        print(orjson.dumps({"level": level, "length": length,
                            "high": settings.high_watermark,
                            "low": settings.low_watermark,
                            "waitingRoles": waiting_roles(StateFile(layout).read())}).decode())
    else:
        print(level)
    return EXIT_FULL if level == "full" else EXIT_OK


_LIST_FILES = {"queue": ("queue", "list"), "completed": ("completed", "list"),
               "failed": ("failed", "list"), "scheduled": ("scheduled", "tasks"),
               "running": ("running", None)}


def list_file(layout: Layout, args: Namespace) -> int:
    attribute, key = _LIST_FILES[args.which]
    file = JsonFile(getattr(layout, attribute), key)
    try:
        data = file.load()
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)
    items = data[key] if key else ([data] if data.get("id") else [])
    if args.n:
        items = items[-args.n:] if args.which in ("completed", "failed") else items[: args.n]
    if args.json:
        sys.stdout.write(dumps(items).decode())
        return EXIT_OK
    from pipeline.cli.table import render_table

    width = shutil.get_terminal_size((100, 24)).columns
    print("\n".join(render_table(args.which, items, width)))
    return EXIT_OK


def show_task(layout: Layout, settings: Settings, args: Namespace) -> int:
    """One task wherever it is: running, queued, or its latest record."""
    from pipeline.cli.logs import tail_offset
    from pipeline.cli.table import render_show

    queue = TaskQueue(layout, settings)
    wanted = args.id.rstrip("…")  # an id as `list` cut it: a prefix, as git takes
    try:
        found = _locate(layout, queue, lambda task_id: task_id == wanted)
        matches = [] if found else _prefix_matches(layout, queue, wanted)
        if len(matches) == 1:
            found = _locate(layout, queue, lambda task_id: task_id == matches[0])
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)
    if found is None:
        more = f"; it begins {len(matches)} ids: {', '.join(matches[:5])}" if matches else ""
        return fail(f"no task {args.id} (not running, queued, or in completed/failed){more}",
                    EXIT_UNKNOWN)
    shown, where = found
    log_path = layout.task_log(shown.id)
    tail = ""
    if log_path.exists():
        with open(log_path, "rb") as handle:
            handle.seek(tail_offset(log_path, 15))
            tail = handle.read().decode("utf-8", errors="replace")
    print("\n".join(render_show(shown, where, tail)))
    return EXIT_OK


def _locate(layout: Layout, queue: TaskQueue, is_it: Callable[[str], bool]
            ) -> tuple[Task | Attempt | Record, str] | None:
    """The task whose id `is_it`: running, queued (with its place) or its latest record."""
    running = queue.running_attempt()
    if running and is_it(running.id):
        return running, "running"
    for position, task in enumerate(queue.tasks()):
        if is_it(task.id):
            return task, f"queued, position {position + 1}"
    for which in ("completed", "failed"):
        items = JsonFile(getattr(layout, which), "list").items()
        records = [r for r in records_in(items) if is_it(r.id)]
        if records:
            return records[-1], which
    return None


def _prefix_matches(layout: Layout, queue: TaskQueue, prefix: str) -> list[str]:
    """Every known id that begins with `prefix` (running, queued, recent records)."""
    if not prefix:
        return []
    running = queue.running_attempt()
    ids = {task.id for task in queue.tasks()} | ({running.id} if running else set())
    for which in ("completed", "failed"):
        items = JsonFile(getattr(layout, which), "list").items()
        ids |= {record.id for record in records_in(items)}
    return sorted(i for i in ids if i.startswith(prefix))


def event_log(layout: Layout, settings: Settings) -> EventLog:
    """A command's events log: runner.toml's hooks, stamped with the wall clock."""
    return EventLog(layout.events, clock.now, settings.hooks, settings.hook_timeout)


def cancel(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(cancel_task(layout, settings, args.id))


def cancel_task(layout: Layout, settings: Settings, task_id: str) -> Result:
    queue = TaskQueue(layout, settings)
    try:
        if cancel_queued(queue, Archive(layout, settings, event_log(layout, settings)), task_id,
                         clock.now()):
            return done(f"cancelled {task_id} (was queued)", task_id)
        running = queue.running_attempt()
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    if not running or running.id != task_id:
        return refused(Status.NOT_FOUND, f"no queued or running task {task_id}")
    return _cancel_running(layout, settings, task_id)


def _cancel_running(layout: Layout, settings: Settings, task_id: str) -> Result:
    """Ask the daemon (through a request file it watches) and wait until it is done."""
    request(layout, task_id)
    status = collect(layout, settings, clock.now(), detail=False)
    if not status["daemon"]["alive"]:
        return done(f"{task_id} will be cancelled when the daemon starts (it is not running)",
                    task_id)
    deadline = time.monotonic() + settings.kill_grace + 5
    while time.monotonic() < deadline:
        if collect(layout, settings, clock.now(), detail=False)["running"] != task_id:
            return done(f"cancelled {task_id} (was running)", task_id)
        time.sleep(0.05)
    return refused(Status.BROKEN, f"asked the daemon to cancel {task_id}; it has not ended yet")


def clear(layout: Layout, settings: Settings, args: Namespace) -> int:
    if not args.yes:
        return fail("clear removes every queued task; add --yes to confirm", EXIT_BAD_INPUT)
    return show(clear_queue(layout, settings))


def clear_queue(layout: Layout, settings: Settings) -> Result:
    try:
        archive = Archive(layout, settings, event_log(layout, settings))
        taken = cancel_all(TaskQueue(layout, settings), archive, clock.now())
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    return done(f"cancelled {len(taken)} queued task(s)")


def retry(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(retry_task(layout, settings, args.id))


def retry_task(layout: Layout, settings: Settings, task_id: str) -> Result:
    try:
        failed = JsonFile(layout.failed, "list").items()
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    records = [record for record in records_in(failed) if record.id == task_id]
    if not records:
        return refused(Status.NOT_FOUND, f"no failed task {task_id}")
    TaskQueue(layout, settings).push_head(records[-1].as_task())
    return done(f"{task_id} is back at the head of the queue", task_id)
