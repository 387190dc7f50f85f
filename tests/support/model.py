"""Typed values from the JSON a test writes down (the contract's own camelCase keys)."""

from __future__ import annotations

from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.task import Task


def task(raw: dict[str, Any] | None = None, **fields: Any) -> Task:  # noqa: ANN401
    """A Task from JSON fields; id "t" and prompt "x" unless given."""
    return Task.from_dict({"id": "t", "prompt": "x", **(raw or {}), **fields})


def attempt(raw: dict[str, Any] | None = None, **fields: Any) -> Attempt:  # noqa: ANN401
    """A running entry (Attempt) from JSON fields; id "t" and prompt "x" unless given."""
    return Attempt.from_dict({"id": "t", "prompt": "x", **(raw or {}), **fields})
