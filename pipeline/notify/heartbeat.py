"""The dead-man's switch: ping `[notify] heartbeat_url` every `heartbeat_every` seconds
while the loop is alive (healthchecks.io style), and `<url>/fail` on a start after
a crash. PM2 restarts a dead runner but tells nobody; a missing ping does.

The loop decides when a ping is due (`due(now)`), so a wedged loop stops the pings
even though the process lives; a helper thread does the HTTP, so a slow monitoring
service never slows the loop.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import urllib.request
from datetime import datetime, timedelta

from pipeline.log import logger
from pipeline.notify.mask import mask


class Pinger:
    def __init__(self, url: str, every: float, timeout: float) -> None:
        self.url = url.rstrip("/")
        self.every = timedelta(seconds=every)
        self.timeout = timeout
        self.next_ping: datetime | None = None
        self.pending: queue.Queue[str | None] = queue.Queue(maxsize=4)
        self.thread = threading.Thread(target=self._work, name="heartbeat-ping", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        with contextlib.suppress(queue.Full):
            self.pending.put_nowait(None)
        self.thread.join(1.0)  # a daemon thread: a ping still hanging does not hold the exit

    def due(self, now: datetime) -> datetime:
        """Ping if one is due at `now`; returns when the next one is."""
        if self.next_ping is None or now >= self.next_ping:
            self._queue(self.url)
            self.next_ping = now + self.every
        return self.next_ping

    def fail(self) -> None:
        """Tell the monitor that the runner died (called on a start after a crash)."""
        self._queue(f"{self.url}/fail")

    def _queue(self, url: str) -> None:
        try:
            self.pending.put_nowait(url)
        except queue.Full:
            logger.warning("heartbeat ping to {} skipped: earlier pings still pending",
                           mask(self.url))

    def _work(self) -> None:
        while (url := self.pending.get()) is not None:
            try:
                with urllib.request.urlopen(url, timeout=self.timeout) as answer:  # noqa: S310
                    answer.read(1024)
            except (OSError, ValueError) as error:
                logger.warning("heartbeat ping to {} failed: {}", mask(self.url),
                               type(error).__name__)
