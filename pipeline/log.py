"""loguru sinks: readable lines on stderr, JSON lines in a rotated file."""

from __future__ import annotations

import sys

from loguru import logger

from pipeline.layout import Layout

HUMAN_FORMAT = (
    "<green>{time:YYYY-MM-DD HH:mm:ss.SSS}</green> <level>{level: <7}</level> "
    "{extra[task]: <28} {message}"
)


def setup(layout: Layout | None, level: str = "INFO") -> None:
    """stderr for people (and PM2's logs); logs/runner.jsonl for machines."""
    logger.remove()
    logger.configure(extra={"task": "-"})
    logger.add(sys.stderr, level=level, format=HUMAN_FORMAT, colorize=False)
    if layout is not None:
        logger.add(layout.runner_log, level="DEBUG", serialize=True, rotation="20 MB",
                   retention="14 days", compression="gz", enqueue=False)


def quiet() -> None:
    """For CLI commands: warnings and errors only, plain."""
    logger.remove()
    logger.configure(extra={"task": "-"})
    logger.add(sys.stderr, level="WARNING", format="{level}: {message}", colorize=False)


def preview(prompt: str, limit: int = 80) -> str:
    """Prompts are never logged whole."""
    flat = " ".join(prompt.split())
    return flat if len(flat) <= limit else flat[:limit] + "…"
