"""Once a day (and at start): write yesterday's report, prune old task logs."""

from __future__ import annotations

from datetime import datetime, timedelta

from pipeline.domain.settings import Settings
from pipeline.log import logger
from pipeline.report.build import reports_folder, write_report
from pipeline.report.uptime import first_start
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.layout import Layout, remove_older_than


def prune_task_logs(layout: Layout, retention_days: int, now: datetime) -> int:
    """Delete logs/tasks/*.log not written for `retention_days`; returns how many."""
    if layout.task_logs.is_symlink():  # never prune a folder elsewhere
        return 0
    cutoff = now.timestamp() - retention_days * 86400
    return remove_older_than(layout.task_logs.glob("*.log"), cutoff)


def daily(layout: Layout, settings: Settings, now: datetime, events: EventLog) -> None:
    """Never raises: housekeeping must not stop the runner."""
    yesterday = now.astimezone().date() - timedelta(days=1)
    try:
        born = first_start(layout)
        existed = born is not None and born.astimezone().date() <= yesterday
        if existed and not (reports_folder(layout) / f"{yesterday.isoformat()}.md").exists():
            written = write_report(layout, yesterday, now, settings.poll_interval,
                                   high_watermark=settings.high_watermark)
            logger.info("wrote the daily report {}", written.markdown)
            events.emit(EventKind.REPORT_READY, date=yesterday.isoformat(),
                        path=str(written.markdown))
        removed = prune_task_logs(layout, settings.task_log_retention_days, now)
        if removed:
            logger.info("pruned {} task log(s) older than {} days", removed,
                        settings.task_log_retention_days)
    except Exception as error:  # noqa: BLE001 - a report bug must not stop the daemon
        logger.exception("daily housekeeping failed: {}", error)
