"""logs/events.jsonl: what happened, one object per line, for reports and hooks.

Hooks (`[hooks]` in runner.toml) are argv templates run for some events, without a
shell, time-limited, their failures logged and never fatal - e.g. to tell a
"coach" agent that the queue has drained. They are configured once per process
with `configure()`, like the log sinks.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import subprocess

from pipeline.domain.clock import iso, now
from pipeline.execution import procgroup
from pipeline.log import logger
from pipeline.storage.jsonfile import append_line
from pipeline.storage.layout import Layout

HOOK_EVENTS = {"level": "on_level_change", "task_done": "on_task_done",
               "task_failed": "on_task_failed", "pause_start": "on_pause", "pause_end": "on_pause",
               "task_cancelled": "on_task_cancelled"}
_hooks: dict[str, tuple[str, ...]] = {}
_hook_timeout = 30.0
_listeners: list[Callable[[dict[str, Any]], None]] = []  # e.g. the notifier (pipeline/notify)


def configure(hooks: dict[str, tuple[str, ...]], timeout: float) -> None:
    global _hook_timeout
    _hooks.clear()
    _hooks.update({name: argv for name, argv in hooks.items() if argv})
    _hook_timeout = timeout


def emit(layout: Layout, event: str, **fields: Any) -> None:
    """Append an event and start its hook; a failure of either is logged, never raised."""
    record = {"at": iso(now()), "event": event, **fields}
    try:
        append_line(layout.events, record)
    except OSError as error:
        logger.warning("could not write event {}: {}", event, error)
    template = _hooks.get(HOOK_EVENTS.get(event, ""))
    if event == "level" and fields.get("from") in (None, fields.get("to")):
        template = None  # the level seen at start, or no change: not a level change
    if template:
        run_hook(hook_argv(template, record), _hook_timeout)
    for listener in list(_listeners):
        try:
            listener(record)
        except Exception:  # noqa: BLE001 - a listener's bug never reaches the caller
            logger.exception("event listener failed on {}", event)


def listen(listener: Callable[[dict[str, Any]], None]) -> None:
    """Call `listener(record)` for every event emitted in this process; it must not block."""
    _listeners.append(listener)


def unlisten(listener: Callable[[dict[str, Any]], None]) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


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
