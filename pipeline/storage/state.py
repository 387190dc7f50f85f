"""tasks/state.json: the runner's pid, heartbeat, backpressure gate and pause.

The daemon writes everything here; the CLI writes only `gate`. Every write is a
locked read-modify-write so neither clobbers the other.
"""

from __future__ import annotations

import contextlib
import os
from datetime import datetime
from typing import Any

from pipeline.domain.clock import iso, parse_iso_or_none
from pipeline.log import logger
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout


class StateFile:
    def __init__(self, layout: Layout) -> None:
        self.file = JsonFile(layout.state)

    def read(self) -> dict[str, Any]:
        """The state; a damaged file is moved aside (kept, never overwritten) and read as {}."""
        try:
            return self.file.load()
        except CorruptFile as error:
            self._set_aside(error)
            return {}

    def _set_aside(self, error: CorruptFile) -> None:
        with contextlib.suppress(OSError):
            damaged_at = int(error.path.stat().st_mtime)  # when it was written damaged
            aside = error.path.with_name(f"{error.path.name}.corrupt-{damaged_at}")
            os.replace(error.path, aside)
            logger.error("state file damaged ({}); kept as {}", error.reason, aside.name)

    def update(self, **fields: Any) -> None:
        """Set fields (a value of None removes the key)."""

        def change(data: dict[str, Any]) -> None:
            for key, value in fields.items():
                if value is None:
                    data.pop(key, None)
                else:
                    data[key] = value

        try:
            self.file.update(change)
        except CorruptFile as error:
            self._set_aside(error)
            self.file.update(change)

    def gate_full(self) -> bool:
        return self.read().get("gate") == "full"

    def paused_until(self) -> datetime | None:
        return parse_iso_or_none(self.read().get("pausedUntil"))

    def set_pause(self, until: datetime | None, reason: str | None,
                  kind: str | None = None) -> None:
        """`kind`: the usage limit's class (limit_class.CLASSES), kept as `pauseClass`."""
        self.update(pausedUntil=iso(until) if until else None, pauseReason=reason,
                    pauseClass=kind if until else None, pausedByHand=None)
