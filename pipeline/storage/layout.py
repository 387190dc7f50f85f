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

    @property
    def state_folders(self) -> tuple[Path, ...]:
        """Folders whose content the runner reads, writes or deletes (parents first)."""
        return (self.tasks, self.cancel_requests, self.history, self.logs, self.task_logs,
                self.inbox, self.rejected)

    def linked_folders(self) -> list[Path]:
        """State folders that are symbolic links (the runner refuses to use them)."""
        return [folder for folder in self.state_folders if folder.is_symlink()]

    def ensure(self) -> None:
        """Create the missing folders; refuse (StateFolderLinked) when one is a symlink -
        following one would let the runner delete or write files elsewhere."""
        linked = self.linked_folders()
        if linked:
            raise StateFolderLinked(linked, self.root)
        for folder in (self.tasks, self.inbox, self.logs, self.task_logs, self.history,
                       self.cancel_requests):
            folder.mkdir(parents=True, exist_ok=True)


class StateFolderLinked(OSError):
    def __init__(self, linked: list[Path], root: Path) -> None:
        names = ", ".join(str(path.relative_to(root)) for path in linked)
        super().__init__(f"refusing to use {root}: {names} is a symbolic link (state folders "
                         "must be real folders inside the root; replace the link with a folder)")


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
