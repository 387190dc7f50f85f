"""Once a day (and at start): write yesterday's report, prune old task logs."""

from __future__ import annotations

import contextlib
import time
from datetime import datetime, timedelta

from loguru import logger

from pipeline.domain.settings import Settings
from pipeline.report.build import reports_folder, write_report
from pipeline.storage.events import emit
from pipeline.storage.layout import Layout


def prune_task_logs(layout: Layout, retention_days: int, now: float | None = None) -> int:
    """Delete logs/tasks/*.log not written for `retention_days`; returns how many."""
    cutoff = (time.time() if now is None else now) - retention_days * 86400
    removed = 0
    for path in layout.task_logs.glob("*.log"):
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed


def daily(layout: Layout, settings: Settings, now: datetime) -> None:
    """Never raises: housekeeping must not stop the runner."""
    yesterday = now.astimezone().date() - timedelta(days=1)
    try:
        if not (reports_folder(layout) / f"{yesterday.isoformat()}.md").exists():
            written = write_report(layout, yesterday, now, settings.poll_interval)
            logger.info("wrote the daily report {}", written.markdown)
            emit(layout, "report_ready", date=yesterday.isoformat(), path=str(written.markdown))
        removed = prune_task_logs(layout, settings.task_log_retention_days)
        if removed:
            logger.info("pruned {} task log(s) older than {} days", removed,
                        settings.task_log_retention_days)
    except Exception as error:  # noqa: BLE001 - a report bug must not stop the daemon
        logger.exception("daily housekeeping failed: {}", error)
