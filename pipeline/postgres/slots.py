"""A node's running attempts on disk: `nodes/<name>/tasks/slots/<n>.json`.

Each file names the attempt's fencing token, job, entry and agent pid, so a node
that crashed can end the orphaned process group at its next start and settle the
attempt (if its lease is still its own): as the files backend's running.json does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from pipeline.agent.verdict import Verdict
from pipeline.daemon import recovery
from pipeline.domain.attempt import AttemptEnd
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


class SlotFiles:
    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def _file(self, index: int) -> JsonFile:
        return JsonFile(self.folder / f"{index}.json")

    def save(self, index: int, claimed: Claim, **process: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        entry = {**claimed.entry, **process}
        self._file(index).save({"token": claimed.token, "jobId": claimed.job_id, "entry": entry})

    def mark_stopping(self, index: int) -> None:
        """The node itself is ending this attempt for a shutdown: not the task's fault."""
        self._file(index).update(lambda data: data.update(stopReason="shutdown"))

    def clear(self, index: int) -> None:
        (self.folder / f"{index}.json").unlink(missing_ok=True)

    def leftovers(self) -> list[tuple[int, dict[str, Any]]]:
        found = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                data = JsonFile(path).load()
            except CorruptFile as error:
                logger.error("{} cannot be parsed ({}); left as it is", path, error.reason)
                continue
            if data.get("token") and isinstance(data.get("entry"), dict):
                found.append((int(path.stem), data))
            else:
                path.unlink(missing_ok=True)
        return found


def recovered_verdict(saved: dict[str, Any], home: Layout, settings: Settings,
                      now: datetime) -> Verdict:
    """How an attempt found at start ended: its result if the agent finished on its own
    (read from the log), else an interruption - uncounted if we were stopping it."""
    entry = saved["entry"]
    output = None
    if not recovery.end_leftover_group(entry, settings.kill_grace) and entry.get("startedAt"):
        output = recovery.output_of_attempt(home.task_log(entry["id"]), attempt_marker(entry))
    finished = recovery.finished_verdict(output, now, settings)
    if finished:
        return finished
    if saved.get("stopReason") == "shutdown":
        return Verdict(Outcome.INTERRUPTED, "the node stopped during the attempt",
                       retryable=True, counts=False)
    return Verdict(Outcome.INTERRUPTED, "interrupted: the node stopped unexpectedly during "
                   "the attempt", retryable=True)
