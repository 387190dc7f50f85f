"""Wires notifications and the dead-man's switch onto the events log.

`EventLog.emit` hands every record to `on_event` (on the emitting thread); the hub
only picks and queues, the sending happens on the notifier's own thread.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pipeline.domain.settings import NOTIFY_EVENTS, Settings
from pipeline.log import logger
from pipeline.notify import sender
from pipeline.notify.heartbeat import Pinger
from pipeline.notify.messages import Episodes, compose, kind_of
from pipeline.notify.sender import Notifier
from pipeline.storage.events import EventLog
from pipeline.storage.layout import Layout


class NotifyHub:
    def __init__(self, layout: Layout, settings: Settings, events: EventLog) -> None:
        self.events = events
        self.place = layout.root.name or str(layout.root)
        self.selected = set(settings.notify_events or NOTIFY_EVENTS)
        self.episodes = Episodes()
        self.notifier: Notifier | None = None
        if settings.notify_urls:
            if sender.available():
                self.notifier = Notifier(settings.notify_urls, settings.notify_timeout,
                                         settings.notify_retry_delay)
            else:
                logger.error("[notify] urls are set but apprise is not installed: "
                             "pip install 'claude-runner[notify]'; no notifications are sent")
        self.pinger = Pinger(settings.heartbeat_url, settings.heartbeat_every,
                             settings.notify_timeout) if settings.heartbeat_url else None
        self.started = False

    def start(self, state: dict[str, Any]) -> None:
        """Start sending; `state` is tasks/state.json as the daemon found it."""
        self.episodes = Episodes.from_state(state)
        for part in (self.notifier, self.pinger):
            if part:
                part.start()
        self.events.listen(self.on_event)

    def stop(self) -> None:
        self.events.unlisten(self.on_event)
        for part in (self.notifier, self.pinger):
            if part:
                part.stop()

    def beat(self, now: datetime) -> datetime | None:
        """Called by the loop at every heartbeat: ping when due; returns the next ping."""
        if self.pinger and self.started:
            return self.pinger.due(now)
        return None

    def on_event(self, record: dict[str, Any]) -> None:
        if record.get("event") == "daemon_start":
            self.started = True
            if self.pinger and record.get("previous") == "crash":
                self.pinger.fail()
        kind = kind_of(record)
        if kind is None or not self.episodes.admit(kind) or kind not in self.selected:
            return
        if self.notifier:
            self.notifier.offer(compose(kind, record, self.place))
