"""SIGHUP: read runner.toml (and the environment, and the start's --set flags) again.

The new settings take effect once the slot is idle - a running task keeps the settings
it started with - and settings that do not load leave the current ones in force, with
the reason in the log.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.domain.settings import Settings, SettingsError
from pipeline.log import logger


class Reloader:
    def __init__(self, load: Callable[[], Settings] | None) -> None:
        self.load_settings = load
        self.wanted = False

    def due(self, loop: Any) -> bool:  # noqa: ANN401 - the daemon's Loop
        """A reload was asked for and nothing runs or waits to be recorded."""
        return self.wanted and not loop.busy

    def load(self) -> Settings | None:
        self.wanted = False
        if self.load_settings is None:
            return None
        try:
            return self.load_settings()
        except SettingsError as error:
            logger.error("runner.toml not reloaded, the current settings stay: {}", error)
            return None
