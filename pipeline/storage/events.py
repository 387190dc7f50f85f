"""logs/events.jsonl: what happened, one object per line, for reports and hooks.

Hooks (`[hooks]` in runner.toml) are argv templates run for some events, without a
shell, time-limited, their failures logged and never fatal - e.g. to tell a
"coach" agent that the queue has drained. One `EventLog` per process is built by the
composition root (the daemon, a CLI command) with the hooks and the clock, and passed
to whoever emits or listens.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

from pipeline.domain.clock import iso
from pipeline.execution import procgroup
from pipeline.log import logger
from pipeline.storage.jsonfile import append_line


class EventKind(StrEnum):
    """Every event name written to logs/events.jsonl (the JSON value is the plain string)."""

    DAEMON_START = "daemon_start"
    DAEMON_STOP = "daemon_stop"
    SETTINGS_RELOADED = "settings_reloaded"
    LEVEL = "level"
    QUEUE_RECOVERED = "queue_recovered"
    TASK_DONE = "task_done"
    TASK_FAILED = "task_failed"
    TASK_CANCELLED = "task_cancelled"
    TASK_RETRY = "task_retry"
    MODEL_FALLBACK = "model_fallback"
    PAUSE_START = "pause_start"
    PAUSE_END = "pause_end"
    BUDGET_REACHED = "budget_reached"
    BUDGET_RESET = "budget_reset"
    SCHEDULE_FIRED = "schedule_fired"
    SCHEDULE_SKIPPED = "schedule_skipped"
    SCHEDULE_LATE = "schedule_late"
    REPORT_READY = "report_ready"
    QUEUE_EDIT_IGNORED = "queue_edit_ignored"


HOOK_EVENTS = {"level": "on_level_change", "task_done": "on_task_done",
               "task_failed": "on_task_failed", "pause_start": "on_pause", "pause_end": "on_pause",
               "task_cancelled": "on_task_cancelled"}
Listener = Callable[[dict[str, Any]], None]
Hooks = Mapping[str, tuple[str, ...]] | Iterable[tuple[str, tuple[str, ...]]]  # settings.hooks


class EventLog:
    """Appends events to `path` stamped with `now()`, runs their hooks, tells listeners."""

    def __init__(self, path: Path, now: Callable[[], datetime],
                 hooks: Hooks = (), timeout: float = 30.0) -> None:
        self.path = path
        self.now = now
        self.hooks: dict[str, tuple[str, ...]] = {}
        self.timeout = timeout
        self.listeners: list[Listener] = []  # e.g. the notifier (pipeline/notify)
        self.use_hooks(hooks, timeout)

    def use_hooks(self, hooks: Hooks, timeout: float) -> None:
        """The hooks from runner.toml (again after a reload); listeners stay."""
        self.hooks = {name: tuple(argv) for name, argv in dict(hooks).items() if argv}
        self.timeout = timeout

    def emit(self, event: str, **fields: Any) -> None:
        """Append an event and start its hook; a failure of either is logged, never raised."""
        event = str(event)  # an EventKind is written, and handed on, as its plain string
        record = {"at": iso(self.now()), "event": event, **fields}
        try:
            append_line(self.path, record)
        except OSError as error:
            logger.warning("could not write event {}: {}", event, error)
        template = self.hooks.get(HOOK_EVENTS.get(event, ""))
        if event == "level" and fields.get("from") in (None, fields.get("to")):
            template = None  # the level seen at start, or no change: not a level change
        if template:
            run_hook(hook_argv(template, record), self.timeout)
        for listener in list(self.listeners):
            try:
                listener(record)
            except Exception:  # noqa: BLE001 - a listener's bug never reaches the caller
                logger.exception("event listener failed on {}", event)

    def listen(self, listener: Listener) -> None:
        """Call `listener(record)` for every event emitted here; it must not block."""
        self.listeners.append(listener)

    def unlisten(self, listener: Listener) -> None:
        if listener in self.listeners:
            self.listeners.remove(listener)


def hook_argv(template: tuple[str, ...], record: dict[str, Any]) -> list[str]:
    """Fill {id} {level} {status} {error} {logFile} {event} {until} {length}."""
    values = {key: "" for key in ("id", "level", "status", "error", "logFile", "until",
                                  "length", "outcome")}
    values.update({k: "" if v is None else str(v) for k, v in record.items()})
    values["level"] = str(record.get("to") or "")
    values["status"] = {"task_done": "success", "task_failed": "failed",
                        "pause_start": "paused", "pause_end": "resumed",
                        "task_cancelled": "cancelled"}.get(record["event"], "")
    return [part.format_map(values) for part in template]


def run_hook(argv: list[str], timeout: float) -> None:
    try:
        import subprocess  # only when a hook runs: CLI start-up

        process = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.PIPE, **procgroup.spawn_options())
    except OSError as error:
        logger.warning("hook {} could not start: {}", argv[0], error)
        return
    threading.Thread(target=_reap, args=(process, argv, timeout), daemon=True).start()


def _reap(process: subprocess.Popen, argv: list[str], timeout: float) -> None:
    import subprocess

    try:
        _, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        procgroup.kill(process.pid)
        process.communicate()
        logger.warning("hook {} took over {} s and was killed", argv[0], timeout)
        return
    if process.returncode:
        tail = stderr.decode(errors="replace").strip()[-300:]
        logger.warning("hook {} exited {}: {}", argv[0], process.returncode, tail)
