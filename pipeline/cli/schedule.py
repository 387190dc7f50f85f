"""`claude-runner schedule list|enable|disable|run|next`."""

from __future__ import annotations

import sys
from argparse import Namespace
from datetime import datetime, timedelta
from typing import Any

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNKNOWN, enqueue_one, fail
from pipeline.cli.result import Result, Status, done, refused, show
from pipeline.domain import clock
from pipeline.domain.schedule import Schedule, schedule_entries, schedules_in
from pipeline.domain.settings import Settings
from pipeline.scheduling.checks import zone_of
from pipeline.scheduling.cron import CronError, next_n
from pipeline.scheduling.health import report, seen_from
from pipeline.scheduling.plan import task_copy
from pipeline.scheduling.slots import jitter_seconds
from pipeline.scheduling.validity import problem_of
from pipeline.stages.prompt_context import with_context
from pipeline.stages.schedule import active_schedule_ids
from pipeline.storage.jsonfile import CorruptFile, JsonFile, dumps
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue
from pipeline.storage.schedule_facts import week_of_files

_COLUMNS = ("id", "enabled", "cron", "timezone", "lastRun", "nextRun", "skipCount", "error")


def _schedules(layout: Layout) -> list[Schedule]:
    return schedules_in(JsonFile(layout.scheduled, "tasks").items())


def _find(schedules: list[Schedule], schedule_id: str) -> Schedule | None:
    return next((s for s in schedules if s.id == schedule_id), None)


def _position(items: list[Any], schedule_id: str) -> int | None:
    """Where the schedule is in the file's `tasks` list."""
    return next((i for i, s in enumerate(schedule_entries(items))
                 if s is not None and s.id == schedule_id), None)


def schedule_command(layout: Layout, settings: Settings, args: Namespace) -> int:
    try:
        handler = {"list": _list, "enable": _enable, "disable": _disable, "run": _run,
                   "next": _next}[args.schedule_command]
        return handler(layout, settings, args)
    except CorruptFile as error:
        return fail(str(error), EXIT_UNKNOWN)


def _list(layout: Layout, _settings: Settings, args: Namespace) -> int:
    rows = _schedules(layout)
    health = schedule_health(layout, rows, clock.now())
    if args.json:
        sys.stdout.write(dumps([{**{c: s.written(c) for c in _COLUMNS}, "health": h}
                                for s, h in zip(rows, health, strict=True)]).decode())
        return EXIT_OK
    for schedule, state in zip(rows, health, strict=True):
        print(_line(schedule))
        print(f"    {health_line(state)}")
    return EXIT_OK


def _line(schedule: Schedule) -> str:
    """One schedule as `schedule list` shows it (its values as written)."""
    shown = schedule.written
    enabled = "on " if schedule.enabled else "off"
    skips = schedule.extra.get("skipCount", schedule.skip_count or 0)
    line = (f"{shown('id')}  {enabled}  {shown('cron')!s:<16} "
            f"{shown('timezone') or 'local'}  last {shown('lastRun') or '-'}  "
            f"next {shown('nextRun') or '-'}  skips {skips}")
    return line + (f"  ERROR {shown('error')}" if shown("error") else "")


def schedule_health(layout: Layout, schedules: list[Schedule], now: datetime
                    ) -> list[dict[str, Any]]:
    events, records = week_of_files(layout, now)
    return [report(s, seen_from(str(s.written("id")), events, records), now) for s in schedules]


def health_line(state: dict[str, Any]) -> str:
    """`day 24 expected, 24 enqueued, 23 ok, 1 failed, 0 skipped; week ...; LATE: ...`"""
    def counts(c: dict[str, int]) -> str:
        return (f"{c['expected']} expected, {c['enqueued']} enqueued, {c['completed']} ok, "
                f"{c['failed']} failed, {c['skipped']} skipped")

    line = f"day {counts(state['lastDay'])}; week {counts(state['lastWeek'])}"
    return line + (f"; LATE: {state['late']}" if state["late"] else "")


def set_enabled(layout: Layout, settings: Settings, schedule_id: str, enabled: bool) -> Result:
    """Enable or disable a schedule under its lock; an unusable one is not enabled."""
    if enabled:
        try:
            schedules = _schedules(layout)
        except CorruptFile as error:
            return refused(Status.BROKEN, str(error))
        schedule = _find(schedules, schedule_id)
        problem = schedule and problem_of(schedules, schedule, settings, clock.now())
        if problem:
            return refused(Status.BAD_INPUT, f"{schedule_id} not enabled: {problem}")

    def change(data: dict[str, Any]) -> bool:
        position = _position(data["tasks"], schedule_id)
        if position is not None:
            data["tasks"][position]["enabled"] = enabled
        return position is not None

    try:
        found = JsonFile(layout.scheduled, "tasks").update(change)
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    if not found:
        return refused(Status.NOT_FOUND, f"no schedule {schedule_id}")
    return done(f"{schedule_id} {'enabled' if enabled else 'disabled'}")


def _enable(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(set_enabled(layout, settings, args.id, True))


def _disable(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(set_enabled(layout, settings, args.id, False))


def _run(layout: Layout, settings: Settings, args: Namespace) -> int:
    return show(run_now(layout, settings, args.id))


def run_now(layout: Layout, settings: Settings, schedule_id: str) -> Result:
    """Enqueue a copy of the schedule now (valid, and not while a copy is queued or
    running: the overlap rule); the message is the copy's id."""
    try:
        schedules = _schedules(layout)
        schedule = _find(schedules, schedule_id)
        if schedule is None:
            return refused(Status.NOT_FOUND, f"no schedule {schedule_id}")
        problem = problem_of(schedules, schedule, settings, clock.now())
        if problem:
            return refused(Status.BAD_INPUT, f"{schedule_id} cannot run: {problem}")
        queue = TaskQueue(layout, settings)
        if schedule_id in active_schedule_ids(queue.tasks(), queue.running_attempt()):
            return refused(Status.FULL, f"{schedule_id}: a copy is still queued or running "
                           "(the overlap rule); try again once it has finished")
    except CorruptFile as error:
        return refused(Status.BROKEN, str(error))
    now = clock.now()
    task = with_context(layout, schedule, task_copy(schedule, now), now, queue.level().value)
    return enqueue_one(layout, settings, task.to_dict())


def _next(layout: Layout, _settings: Settings, args: Namespace) -> int:
    schedule = _find(_schedules(layout), args.id)
    if schedule is None:
        return fail(f"no schedule {args.id}", EXIT_UNKNOWN)
    try:
        zone = zone_of(schedule)
        jitter = timedelta(seconds=jitter_seconds(str(args.id), schedule.written("jitterSeconds")))
        slots = next_n(str(schedule.written("cron")), zone, clock.now() - jitter, args.n)
    except CronError as error:
        return fail(f"{args.id}: {error}", EXIT_BAD_INPUT)
    for slot in slots:  # when it really fires: the slot plus the schedule's stable jitter
        print((slot + jitter).isoformat())
    return EXIT_OK

