"""What an action (add, cancel, retry, clear, schedule enable/disable/run) returns, so the
CLI and the web page share one implementation: the CLI prints it and exits with its code,
the page shows it with its HTTP status."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum
from typing import Any

from pipeline.domain.validation import FieldError


class Status(Enum):
    """(exit code, HTTP status) of each kind of result."""

    OK = (0, 200)
    NOT_FOUND = (1, 404)
    BAD_INPUT = (2, 422)
    FULL = (75, 409)
    BROKEN = (1, 503)  # a file that cannot be read or written; left as it is

    @property
    def exit_code(self) -> int:
        return self.value[0]

    @property
    def http(self) -> int:
        return self.value[1]


@dataclass(frozen=True)
class Result:
    status: Status
    message: str
    errors: tuple[FieldError, ...] = ()
    task_id: str | None = None
    task: dict[str, Any] | None = None  # the task as admitted, for `add --json`

    @property
    def ok(self) -> bool:
        return self.status is Status.OK


def done(message: str, task_id: str | None = None, task: dict[str, Any] | None = None) -> Result:
    return Result(Status.OK, message, task_id=task_id, task=task)


def refused(status: Status, message: str, errors: tuple[FieldError, ...] = ()) -> Result:
    return Result(status, message, errors)


def show(result: Result) -> int:
    """The CLI's side: the message on stdout (or stderr when refused), the exit code."""
    if result.ok:
        print(result.message)
    else:
        print(f"claude-runner: {result.message}", file=sys.stderr)
    return result.status.exit_code
