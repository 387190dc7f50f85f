"""`claude-runner report --week [YYYY-Www] [--format md|json]`."""

from __future__ import annotations

import sys
from argparse import Namespace

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, fail
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.report.weekly import WeekInputs, parse_week, this_week, write_week
from pipeline.storage.layout import Layout


def week_command(layout: Layout, settings: Settings, args: Namespace) -> int:
    if args.date:
        return fail("--date and --week cannot be combined", EXIT_BAD_INPUT)
    now = clock.now()
    try:
        monday = parse_week(args.week) if args.week else this_week(now, None)
    except ValueError as error:
        return fail(f"--week {error}", EXIT_BAD_INPUT)
    inputs = WeekInputs(layout, now, settings.poll_interval, None, settings.high_watermark)
    written = write_week(inputs, monday)
    path = written.markdown if args.format == "md" else written.json
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return EXIT_OK
