"""The same error is logged once until it changes: a problem that lasts (a writer that
keeps truncating queue.json, a wedged step, a file that is not a folder) gives one log
entry, not one a second. Numbers (positions, sizes, times) do not make an error new, and
a problem that comes back within QUIET seconds of clearing (a writer alternating good and
bad versions) is not logged again either."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

_NUMBERS = re.compile(r"\d+")
QUIET = 60.0  # seconds
MAX_KEYS = 1000


def gist(message: str) -> str:
    """The message without its numbers: `line 1 column 9` and `column 12` are the same."""
    return _NUMBERS.sub("#", message)


@dataclass
class _Seen:
    gist: str
    logged_at: float
    cleared: bool = False


class Repeats:
    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self.last: dict[str, _Seen] = {}

    def first(self, key: str, message: str) -> bool:
        """True when `message` is new for `key` (then it is remembered)."""
        now, text = self.clock(), gist(message)
        seen = self.last.get(key)
        if seen and seen.gist == text and (not seen.cleared or now - seen.logged_at < QUIET):
            return False
        self.last[key] = _Seen(text, now)
        if len(self.last) > MAX_KEYS:  # keys named by files: forget the problems that ended
            self.last = {k: v for k, v in self.last.items() if not v.cleared or k == key}
        return True

    def log(self, key: str, message: str, emit: Callable[[str], None]) -> None:
        if self.first(key, message):
            emit(message)

    def clear(self, key: str) -> None:
        """The problem is over: when it comes back (after QUIET seconds) it is logged again."""
        seen = self.last.get(key)
        if seen:
            seen.cleared = True
