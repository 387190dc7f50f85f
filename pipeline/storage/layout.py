"""Where every file of a root lives."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def tasks(self) -> Path:
        return self.root / "tasks"

    @property
    def inbox(self) -> Path:
        return self.root / "inbox"

    @property
    def rejected(self) -> Path:
        return self.inbox / "rejected"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def task_logs(self) -> Path:
        return self.logs / "tasks"

    @property
    def queue(self) -> Path:
        return self.tasks / "queue.json"

    @property
    def running(self) -> Path:
        return self.tasks / "running.json"

    @property
    def completed(self) -> Path:
        return self.tasks / "completed.json"

    @property
    def failed(self) -> Path:
        return self.tasks / "failed.json"

    @property
    def scheduled(self) -> Path:
        return self.tasks / "scheduled.json"

    @property
    def state(self) -> Path:
        return self.tasks / "state.json"

    @property
    def history(self) -> Path:
        return self.tasks / "history"

    @property
    def cancel_requests(self) -> Path:
        """A file `<id>` here asks the daemon to cancel that task (see cli cancel)."""
        return self.tasks / "cancel"

    @property
    def events(self) -> Path:
        return self.logs / "events.jsonl"

    @property
    def heartbeats(self) -> Path:
        return self.logs / "heartbeats"

    @property
    def runner_log(self) -> Path:
        return self.logs / "runner.jsonl"

    def task_log(self, task_id: str) -> Path:
        return self.task_logs / f"{task_id}.log"

    def ensure(self) -> None:
        for folder in (self.tasks, self.inbox, self.logs, self.task_logs, self.history,
                       self.cancel_requests):
            folder.mkdir(parents=True, exist_ok=True)


def is_candidate(path: Path) -> bool:
    """Inbox files worth reading: *.json, not hidden, not a temp file."""
    name = path.name
    return name.endswith(".json") and not name.startswith(".") and not name.endswith(".tmp")


def remove_older_than(paths: Iterable[Path], cutoff: float) -> int:
    """Delete the files last written before `cutoff` (epoch seconds); returns how many."""
    removed = 0
    for path in paths:
        with contextlib.suppress(OSError):
            if path.stat().st_mtime < cutoff:
                path.unlink()
                removed += 1
    return removed
