"""`claude-runner schedule list|enable|disable|run|next`."""

from __future__ import annotations

import sys
from argparse import Namespace
from datetime import datetime
from typing import Any

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_FULL, EXIT_OK, EXIT_UNKNOWN, fail
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.scheduling.cron import CronError, next_n, zone_for
from pipeline.scheduling.health import report, seen_from
from pipeline.scheduling.plan import task_copy
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps
from pipeline.storage.layout import Layout
from pipeline.storage.queue import DuplicateIds, QueueFull, TaskQueue
from pipeline.storage.schedule_facts import week_of_files

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
    health = schedule_health(layout, rows, clock.now())
    if args.json:
        sys.stdout.write(dumps([{**{c: s.get(c) for c in _COLUMNS}, "health": h}
                                for s, h in zip(rows, health, strict=True)]).decode())
        return EXIT_OK
    for schedule, state in zip(rows, health, strict=True):
        enabled = "on " if schedule.get("enabled", True) is not False else "off"
        line = (f"{schedule.get('id')}  {enabled}  {schedule.get('cron')!s:<16} "
                f"{schedule.get('timezone') or 'local'}  last {schedule.get('lastRun') or '-'}  "
                f"next {schedule.get('nextRun') or '-'}  skips {schedule.get('skipCount', 0)}")
        print(line + (f"  ERROR {schedule['error']}" if schedule.get("error") else ""))
        print(f"    {health_line(state)}")
    return EXIT_OK


def schedule_health(layout: Layout, schedules: list[dict[str, Any]], now: datetime
                    ) -> list[dict[str, Any]]:
    events, records = week_of_files(layout, now)
    return [report(s, seen_from(str(s.get("id")), events, records), now) for s in schedules]


def health_line(state: dict[str, Any]) -> str:
    """`day 24 expected, 24 enqueued, 23 ok, 1 failed, 0 skipped; week ...; LATE: ...`"""
    def counts(c: dict[str, int]) -> str:
        return (f"{c['expected']} expected, {c['enqueued']} enqueued, {c['completed']} ok, "
                f"{c['failed']} failed, {c['skipped']} skipped")

    line = f"day {counts(state['lastDay'])}; week {counts(state['lastWeek'])}"
    return line + (f"; LATE: {state['late']}" if state["late"] else "")


def _set_enabled(layout: Layout, schedule_id: str, enabled: bool) -> int:
    def change(data: dict[str, Any]) -> bool:
        schedule = _find(data["tasks"], schedule_id)
        if schedule is not None:
            schedule["enabled"] = enabled
        return schedule is not None

    if not JsonFile(layout.scheduled, "tasks").update(change):
        return fail(f"no schedule {schedule_id}", EXIT_UNKNOWN)
    print(f"{schedule_id} {'enabled' if enabled else 'disabled'}")
    return EXIT_OK


def _enable(layout: Layout, _settings: Settings, args: Namespace) -> int:
    return _set_enabled(layout, args.id, True)


def _disable(layout: Layout, _settings: Settings, args: Namespace) -> int:
    return _set_enabled(layout, args.id, False)


def _run(layout: Layout, settings: Settings, args: Namespace) -> int:
    schedule = _find(_schedules(layout), args.id)
    if schedule is None:
        return fail(f"no schedule {args.id}", EXIT_UNKNOWN)
    try:
        admitted = TaskQueue(layout, settings).enqueue([task_copy(schedule, clock.now())],
                                                       clock.now())
    except QueueFull:
        return fail("the queue is full; try again later", EXIT_FULL)
    except DuplicateIds as duplicate:
        return fail(str(duplicate), EXIT_BAD_INPUT)
    print(admitted[0]["id"])
    return EXIT_OK


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
