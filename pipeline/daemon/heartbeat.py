"""The heartbeat on a thread of its own: `status` keeps saying the daemon is alive
while the loop waits on a lock another writer holds (it only needs state.json)."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from datetime import datetime

from pipeline.domain import clock
from pipeline.domain.clock import iso
from pipeline.log import logger
from pipeline.storage.jsonfile import append_text
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile


def beat(layout: Layout, state: StateFile, now: datetime, tick_at: datetime,
         first: bool = False) -> None:
    """heartbeatAt (this process lives) and tickAt (the last tick the loop completed): a
    wedged loop keeps beating here, and status tells it from a live one by tickAt."""
    fields = {"pid": os.getpid(), "heartbeatAt": iso(now), "tickAt": iso(tick_at)}
    if first:
        fields.update(startedAt=iso(now), stoppedAt=None)
    try:
        state.update(**fields)
        day = now.astimezone().date().isoformat()
        append_text(layout.heartbeats / f"{day}.txt", iso(now), sync=False)
    except OSError as error:
        logger.error("cannot write the heartbeat: {}", error)


class Heartbeat:
    def __init__(self, layout: Layout, interval: float,
                 last_tick: Callable[[], datetime]) -> None:
        self.layout = layout
        self.last_tick = last_tick
        self.state = StateFile(layout)  # its own lock handle, apart from the loop's
        self.interval = interval
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        """Stop beating; returns once no beat can be written any more."""
        self.stopped.set()
        if self.thread.is_alive():
            self.thread.join()

    def _run(self) -> None:
        while not self.stopped.wait(self.interval):
            beat(self.layout, self.state, clock.now(), self.last_tick())
