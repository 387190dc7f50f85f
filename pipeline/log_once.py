"""The same error is logged once until it changes: a problem that lasts (a writer that
keeps truncating queue.json, a wedged step, a file that is not a folder) gives one log
entry, not one a second. Numbers (positions, sizes, times) do not make an error new."""

from __future__ import annotations

import re
from collections.abc import Callable

_NUMBERS = re.compile(r"\d+")


def gist(message: str) -> str:
    """The message without its numbers: `line 1 column 9` and `column 12` are the same."""
    return _NUMBERS.sub("#", message)


class Repeats:
    def __init__(self) -> None:
        self.last: dict[str, str] = {}

    def first(self, key: str, message: str) -> bool:
        """True when `message` is new for `key` (then it is remembered)."""
        if self.last.get(key) == gist(message):
            return False
        self.last[key] = gist(message)
        return True

    def log(self, key: str, message: str, emit: Callable[[str], None]) -> None:
        if self.first(key, message):
            emit(message)

    def clear(self, key: str) -> None:
        """The problem is over: the next one is logged again."""
        self.last.pop(key, None)
