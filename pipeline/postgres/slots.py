"""A node's running attempts on disk: `nodes/<name>/tasks/slots/<n>.json`.

Each file names the attempt's fencing token, job, entry and agent pid, so a node
that crashed can end the orphaned process group at its next start and settle the
attempt (if its lease is still its own): as the files backend's running.json does.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.agent.verdict import Verdict
from pipeline.daemon import recovery
from pipeline.domain import fields as f
from pipeline.domain.attempt import Attempt, AttemptEnd, StopReason
from pipeline.domain.fields import key
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.execution.agent_process import AgentProcess
from pipeline.log import logger
from pipeline.postgres.leases import Claim
from pipeline.stages.run import attempt_marker
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

SELF_FENCED = Verdict(Outcome.INTERRUPTED, "the node lost the database and ended the attempt "
                      "(self-fencing)", retryable=True, counts=False)


@dataclass
class Slot:
    """One running attempt of a node, from its claim until its end is recorded."""
    index: int
    claim: Claim
    header: str = ""
    execution: AgentProcess | None = None
    end: AttemptEnd | None = None
    verdict: Verdict | None = None
    judge_at: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class SavedSlot:
    """A slot file: the attempt's fencing token, job and running entry (with the agent's
    pid once it runs); `stopReason` "shutdown" once the node began ending it for a stop."""
    entry: Attempt
    token: str = key("token", f.is_text, "")
    job_id: int | None = key("jobId", f.is_int)
    stop_reason: str | None = key("stopReason", f.is_str)

    @classmethod
    def from_dict(cls, raw: Mapping[str, Any]) -> SavedSlot:
        """Raises ValueError when `raw` has no token or no running entry."""
        values, rest = f.split(cls, raw)
        if not values.get("token"):
            raise ValueError("a slot file without a token")
        return cls(entry=Attempt.from_dict(rest.get("entry")), **values)

    def to_dict(self) -> dict[str, Any]:
        return {**f.dump(self), "entry": self.entry.to_dict()}


class SlotFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, index: int) -> JsonFile:
        return JsonFile(self.folder / f"{index}.json")

    def save(self, index: int, claimed: Claim, pid: int | None = None,
             pid_start_ticks: int | None = None) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = replace(claimed.entry, pid=pid, pid_start_ticks=pid_start_ticks) \
            if pid is not None else claimed.entry
        saved = SavedSlot(entry=entry, token=claimed.token, job_id=claimed.job_id)
        self._file(index).save(saved.to_dict())

    def mark_stopping(self, index: int) -> None:
        """The node itself is ending this attempt for a shutdown: not the task's fault."""
        self._file(index).update(lambda data: data.update(stopReason=StopReason.SHUTDOWN.value))

    def clear(self, index: int) -> None:
        (self.folder / f"{index}.json").unlink(missing_ok=True)

    def leftovers(self) -> list[tuple[int, SavedSlot]]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = JsonFile(path).load()
            except CorruptFile as error:
                logger.error("{} cannot be parsed ({}); left as it is", path, error.reason)
                continue
            try:
                saved = SavedSlot.from_dict(data)
            except ValueError:  # no token or no running entry (NotATask is a ValueError)
                path.unlink(missing_ok=True)
                continue
            found.append((int(path.stem), saved))
        return found


def recovered_verdict(saved: SavedSlot, home: Layout, settings: Settings,
                      now: datetime) -> Verdict:
    """How an attempt found at start ended: its result if the agent finished on its own
    (read from the log), else an interruption - uncounted if we were stopping it."""
    entry = saved.entry
    output = None
    if not recovery.end_leftover_group(entry, settings.kill_grace) and entry.started_at:
        output = recovery.output_of_attempt(home.task_log(entry.id), attempt_marker(entry))
    finished = recovery.finished_verdict(output, now, settings)
    if finished:
        return finished
    if saved.stop_reason == StopReason.SHUTDOWN:
        return Verdict(Outcome.INTERRUPTED, "the node stopped during the attempt",
                       retryable=True, counts=False)
    return Verdict(Outcome.INTERRUPTED, "interrupted: the node stopped unexpectedly during "
                   "the attempt", retryable=True)
