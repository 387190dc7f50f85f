"""loguru sinks: readable lines on stderr, JSON lines in a rotated file."""

from __future__ import annotations

import os
import sys

from loguru import logger

from pipeline.storage.layout import Layout

LINE_FORMAT = "{level: <7} {extra[task]: <28} {message}"
TIME_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} "


def human_format(environ: dict[str, str]) -> str:
    """PM2 (which sets `pm_id`) stamps every line itself: no second timestamp then."""
    return LINE_FORMAT if "pm_id" in environ else TIME_FORMAT + LINE_FORMAT


def setup(layout: Layout | None, level: str = "INFO", rotation: str = "20 MB",
          retention: str = "14 days") -> None:
    """Readable lines for people and PM2 - info on stdout, warnings and errors on
    stderr - and logs/runner.jsonl (JSON lines, rotated) for machines."""
    logger.remove()
    logger.configure(extra={"task": "-"})
    line = human_format(dict(os.environ))
    # diagnose=False: a traceback never carries local values (a task's prompt) into a log
    logger.add(sys.stdout, level=level, format=line, colorize=False, diagnose=False,
               filter=lambda record: record["level"].no < logger.level("WARNING").no)
    logger.add(sys.stderr, level="WARNING", format=line, colorize=False, diagnose=False)
    if layout is not None:
        logger.add(layout.runner_log, level="DEBUG", serialize=True, rotation=rotation,
                   retention=retention, compression="gz", diagnose=False)


def quiet() -> None:
    """For CLI commands: warnings and errors only, plain."""
    logger.remove()
    logger.configure(extra={"task": "-"})
    logger.add(sys.stderr, level="WARNING", format="{level}: {message}", colorize=False,
               diagnose=False)

