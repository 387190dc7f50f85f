"""The CLI's queue commands. Each returns an exit code; none imports the daemon
or watchdog, so `add` starts fast and works while the daemon is down."""

from __future__ import annotations

import os
import sys
import time
from argparse import Namespace
from typing import Any

import orjson

from pipeline.cli.status import collect
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.domain.task import validate
from pipeline.stages.archive import Archive, as_task
from pipeline.stages.cancel import archive_cancelled, cancel_queued, request
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
    task = task_from_args(args)
    errors = validate(task, settings)
    if errors:
        return fail("; ".join(str(e) for e in errors), EXIT_BAD_INPUT)
    try:
        admitted = TaskQueue(layout, settings).enqueue([task], clock.now())
    except QueueFull:
        if task.get("role"):
            record_refusal(StateFile(layout), task["role"], clock.now())
        return fail("the queue is full; try again later (or use --priority high)", EXIT_FULL)
    except DuplicateIds as duplicate:
        return fail(str(duplicate), EXIT_BAD_INPUT)
    except CorruptFile as error:
        return fail(f"{error}; fix it first (nothing was written)", EXIT_UNKNOWN)
    print(admitted[0]["id"])
    return EXIT_OK


def queue_check(layout: Layout, settings: Settings, args: Namespace) -> int:
    status = collect(layout, settings, clock.now(), detail=False)
    level = status["queue"]["level"]
    if args.json:
        print(orjson.dumps({"level": level, "length": status["queue"]["length"],
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
    queue = TaskQueue(layout, settings)
    try:
        if cancel_queued(queue, Archive(layout, settings), args.id, clock.now()):
            print(f"cancelled {args.id} (was queued)")
            return EXIT_OK
        running = queue.running_task()
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)
    if not running or running.get("id") != args.id:
        return fail(f"no queued or running task {args.id}", EXIT_UNKNOWN)
    return _cancel_running(layout, settings, args.id)


def _cancel_running(layout: Layout, settings: Settings, task_id: str) -> int:
    """Ask the daemon (through a request file it watches) and wait until it is done."""
    request(layout, task_id)
    status = collect(layout, settings, clock.now(), detail=False)
    if not status["daemon"]["alive"]:
        print(f"{task_id} will be cancelled when the daemon starts (it is not running)")
        return EXIT_OK
    deadline = time.monotonic() + settings.kill_grace + 5
    while time.monotonic() < deadline:
        if collect(layout, settings, clock.now(), detail=False)["running"] != task_id:
            print(f"cancelled {task_id} (was running)")
            return EXIT_OK
        time.sleep(0.05)
    return fail(f"asked the daemon to cancel {task_id}; it has not ended yet", EXIT_UNKNOWN)


def clear(layout: Layout, settings: Settings, args: Namespace) -> int:
    if not args.yes:
        return fail("clear removes every queued task; add --yes to confirm", EXIT_BAD_INPUT)
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
        return fail(str(error), EXIT_UNKNOWN)
    print(f"cancelled {len(taken)} queued task(s)")
    return EXIT_OK


def retry(layout: Layout, settings: Settings, args: Namespace) -> int:
    try:
        failed = JsonFile(layout.failed, "list").items()
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)
    records = [r for r in failed if isinstance(r, dict) and r.get("id") == args.id]
    if not records:
        return fail(f"no failed task {args.id}", EXIT_UNKNOWN)
    TaskQueue(layout, settings).push_head(as_task(records[-1]))
    print(f"{args.id} is back at the head of the queue")
    return EXIT_OK
