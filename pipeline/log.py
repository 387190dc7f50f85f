"""loguru sinks: readable lines on stderr, JSON lines in a rotated file.

`logger` here is loguru's, imported on first use: a CLI command that logs nothing
does not pay for loguru's import (about a third of its start-up).
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.storage.layout import Layout


class _LazyLogger:
    """Forwards to loguru's logger, importing it (and applying `quiet`) when first used."""

    quiet_pending = False

    def __getattr__(self, name: str) -> Any:
        from loguru import logger as real

        if _LazyLogger.quiet_pending:
            _LazyLogger.quiet_pending = False
            _quiet(real)
        return getattr(real, name)


logger: Any = _LazyLogger()

LINE_FORMAT = "{level: <7} {extra[task]: <28} {message}"
TIME_FORMAT = "{time:YYYY-MM-DD HH:mm:ss.SSS} "


def human_format(environ: dict[str, str]) -> str:
    """PM2 (which sets `pm_id`) stamps every line itself: no second timestamp then."""
    return LINE_FORMAT if "pm_id" in environ else TIME_FORMAT + LINE_FORMAT


def setup(layout: Layout | None, level: str = "INFO", rotation: str = "20 MB",
          retention: str = "14 days") -> None:
    """Readable lines for people and PM2 - info on stdout, warnings and errors on
    stderr - and logs/runner.jsonl (JSON lines, rotated) for machines."""
    from loguru import logger

    _LazyLogger.quiet_pending = False
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
    """For CLI commands: warnings and errors only, plain - once something logs."""
    _LazyLogger.quiet_pending = True


def _quiet(real: Any) -> None:
    real.remove()
    real.configure(extra={"task": "-"})
    real.add(sys.stderr, level="WARNING", format="{level}: {message}", colorize=False,
             diagnose=False)

