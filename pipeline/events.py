"""logs/events.jsonl: what happened, one object per line, for reports and hooks."""

from __future__ import annotations

from typing import Any

from loguru import logger

from pipeline.clock import iso, now
from pipeline.layout import Layout
from pipeline.store import append_line


def emit(layout: Layout, event: str, **fields: Any) -> None:
    """Append an event; a failure to write it is logged, never raised."""
    record = {"at": iso(now()), "event": event, **fields}
    try:
        append_line(layout.events, record)
    except OSError as error:
        logger.warning("could not write event {}: {}", event, error)
