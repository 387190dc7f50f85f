"""Backpressure with hysteresis: above `high` the queue is full, and it stays full
until the length is back to `low` or below. Between the two it is busy, unless
it is still full from above - that memory is the `gate` in tasks/state.json."""

from __future__ import annotations

from enum import StrEnum


class Level(StrEnum):
    OK = "ok"
    BUSY = "busy"
    FULL = "full"


def still_full(length: int, was_full: bool, high: int, low: int) -> bool:
    """The gate after seeing `length`: closes above high, opens at low or below."""
    if length > high:
        return True
    if length <= low:
        return False
    return was_full


def level(length: int, was_full: bool, high: int, low: int) -> Level:
    if still_full(length, was_full, high, low):
        return Level.FULL
    return Level.OK if length <= low else Level.BUSY


def batch_fits(length: int, count: int, high: int, low: int) -> bool:
    """Whether `count` normal-priority tasks (one inbox file) may join a queue of `length`
    whose gate is open. A batch may take the queue past `high` by one task, as a single
    task may; a bigger batch waits until the queue is back at `low` or below, so a list
    longer than the watermark on its own is only admitted into a quiet queue."""
    return length + count - 1 <= high or length <= low
