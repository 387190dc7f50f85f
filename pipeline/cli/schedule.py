"""`claude-runner schedule list|enable|disable|run|next`."""

from __future__ import annotations

import sys
from argparse import Namespace
from typing import Any

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNKNOWN, enqueue_one, fail
from pipeline.cli.result import Result, Status, done, refused, show
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.scheduling.cron import CronError, next_n, zone_for
from pipeline.scheduling.plan import task_copy
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps
from pipeline.storage.layout import Layout

_COLUMNS = ("id", "enabled", "cron", "timezone", "lastRun", "nextRun", "skipCount", "error")


def _schedules(layout: Layout) -> list[Any]:
    return JsonFile(layout.scheduled, "tasks").items()


def _find(schedules: list[Any], schedule_id: str) -> dict[str, Any] | None:
    return next((s for s in schedules if isinstance(s, dict) and s.get("id") == schedule_id),
                None)


def schedule_command(layout: Layout, settings: Settings, args: Namespace) -> int:
    try:
        handler = {"list": _list, "enable": _enable, "disable": _disable, "run": _run,
                   "next": _next}[args.schedule_command]
        return handler(layout, settings, args)
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)


def _list(layout: Layout, _settings: Settings, args: Namespace) -> int:
    rows = [s for s in _schedules(layout) if isinstance(s, dict)]
    if args.json:
        sys.stdout.write(dumps([{c: s.get(c) for c in _COLUMNS} for s in rows]).decode())
        return EXIT_OK
    for schedule in rows:
        enabled = "on " if schedule.get("enabled", True) is not False else "off"
        line = (f"{schedule.get('id')}  {enabled}  {schedule.get('cron')!s:<16} "
                f"{schedule.get('timezone') or 'local'}  last {schedule.get('lastRun') or '-'}  "
                f"next {schedule.get('nextRun') or '-'}  skips {schedule.get('skipCount', 0)}")
        print(line + (f"  ERROR {schedule['error']}" if schedule.get("error") else ""))
    return EXIT_OK


def set_enabled(layout: Layout, schedule_id: str, enabled: bool) -> Result:
    def change(data: dict[str, Any]) -> bool:
        schedule = _find(data["tasks"], schedule_id)
        if schedule is not None:
            schedule["enabled"] = enabled
        return schedule is not None

    try:
        found = JsonFile(layout.scheduled, "tasks").update(change)
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    if not found:
        return refused(Status.NOT_FOUND, f"no schedule {schedule_id}")
    return done(f"{schedule_id} {'enabled' if enabled else 'disabled'}")


def _enable(layout: Layout, _settings: Settings, args: Namespace) -> int:
    return show(set_enabled(layout, args.id, True))


def _disable(layout: Layout, _settings: Settings, args: Namespace) -> int:
    return show(set_enabled(layout, args.id, False))


def _run(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(run_now(layout, settings, args.id))


def run_now(layout: Layout, settings: Settings, schedule_id: str) -> Result:
    """Enqueue a copy of the schedule now; the message is the copy's id."""
    try:
        schedule = _find(_schedules(layout), schedule_id)
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    if schedule is None:
        return refused(Status.NOT_FOUND, f"no schedule {schedule_id}")
    return enqueue_one(layout, settings, task_copy(schedule, clock.now()))


def _next(layout: Layout, _settings: Settings, args: Namespace) -> int:
    schedule = _find(_schedules(layout), args.id)
    if schedule is None:
        return fail(f"no schedule {args.id}", EXIT_UNKNOWN)
    try:
        zone = zone_for(schedule.get("timezone"))
        slots = next_n(str(schedule.get("cron")), zone, clock.now(), args.n)
    except CronError as error:
        return fail(f"{args.id}: {error}", EXIT_BAD_INPUT)
    for slot in slots:
        print(slot.isoformat())
    return EXIT_OK
