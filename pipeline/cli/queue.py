"""The CLI's queue commands. Each returns an exit code; none imports the daemon
or watchdog, so `add` starts fast and works while the daemon is down."""

from __future__ import annotations

import os
import sys
import time
from argparse import Namespace
from typing import Any

import orjson

from pipeline.cli.result import Result, Status, done, refused, show
from pipeline.cli.status import collect
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.domain.task import validate
from pipeline.stages.archive import Archive, as_task
from pipeline.stages.cancel import archive_cancelled, cancel_queued, request
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps
from pipeline.storage.layout import Layout
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue

EXIT_OK, EXIT_UNKNOWN, EXIT_BAD_INPUT, EXIT_FULL = 0, 1, 2, 75


def fail(message: str, code: int) -> int:
    print(f"claude-runner: {message}", file=sys.stderr)
    return code


def task_from_args(args: Namespace) -> dict[str, Any]:
    task: dict[str, Any] = {"prompt": args.prompt}
    optional = {
        "workspace": args.workspace, "timeout": args.timeout, "id": args.id,
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
    return show(add_task(layout, settings, task_from_args(args)))


def add_task(layout: Layout, settings: Settings, task: dict[str, Any]) -> Result:
    """Validate and enqueue one task durably; the message is its id."""
    errors = validate(task, settings)
    if errors:
        return refused(Status.BAD_INPUT, "; ".join(str(e) for e in errors), tuple(errors))
    return enqueue_one(layout, settings, task)


def enqueue_one(layout: Layout, settings: Settings, task: dict[str, Any]) -> Result:
    """Enqueue a task durably; the message is its id (or why it was refused)."""
    try:
        admitted = TaskQueue(layout, settings).enqueue([task], clock.now())
    except QueueFull:
        return refused(Status.FULL, "the queue is full; try again later (or use --priority high)")
    except DuplicateIds as duplicate:
        return refused(Status.BAD_INPUT, str(duplicate), tuple(duplicate.errors))
    except CorruptFile as error:
        return refused(Status.BROKEN, f"{error}; fix it first (nothing was written)")
    return done(admitted[0]["id"], admitted[0]["id"])


def queue_check(layout: Layout, settings: Settings, args: Namespace) -> int:
    status = collect(layout, settings, clock.now(), detail=False)
    level = status["queue"]["level"]
    if args.json:
        print(orjson.dumps({"level": level, "length": status["queue"]["length"],
                            "high": settings.high_watermark,
                            "low": settings.low_watermark}).decode())
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
    for item in items:
        print(_one_line(item))
    return EXIT_OK


def _one_line(item: Any) -> str:
    if not isinstance(item, dict):
        return repr(item)
    parts = [str(item.get("id")), item.get("status") or item.get("cron") or "",
             item.get("outcome") or "", item.get("role") or "",
             " ".join(str(item.get("prompt") or "").split())[:60]]
    return "  ".join(p for p in parts if p)


def cancel(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(cancel_task(layout, settings, args.id))


def cancel_task(layout: Layout, settings: Settings, task_id: str) -> Result:
    queue = TaskQueue(layout, settings)
    try:
        if cancel_queued(queue, Archive(layout, settings), task_id, clock.now()):
            return done(f"cancelled {task_id} (was queued)", task_id)
        running = queue.running_task()
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    if not running or running.get("id") != task_id:
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
    queue = TaskQueue(layout, settings)
    archive = Archive(layout, settings)

    def take_all(data: dict[str, Any]) -> list[Any]:
        taken, data["list"] = data["list"], []
        for task in taken:  # archived before the queue is written: never lost
            if isinstance(task, dict) and task.get("id"):
                archive_cancelled(archive, task, clock.now())
        queue.sync_gate(0)
        return taken

    try:
        taken = queue.file.update(take_all)
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
    records = [r for r in failed if isinstance(r, dict) and r.get("id") == task_id]
    if not records:
        return refused(Status.NOT_FOUND, f"no failed task {task_id}")
    TaskQueue(layout, settings).push_head(as_task(records[-1]))
    return done(f"{task_id} is back at the head of the queue", task_id)
