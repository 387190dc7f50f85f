"""Start-up recovery: what a crashed run left behind (stale temp and prompt files, the task
in running.json - intact or damaged) is settled before the first tick."""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

import orjson

from pipeline.daemon import recovery
from pipeline.daemon.loop import Loop
from pipeline.domain.attempt import Attempt
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.task import NotATask, Task, valid_id
from pipeline.log import logger
from pipeline.stages.run import attempt_marker
from pipeline.storage.jsonfile import CorruptFile
from pipeline.storage.layout import Layout


def recover_at_start(layout: Layout, loop: Loop, settings: Settings, now: datetime) -> None:
    StartupRecovery(layout, loop, settings).run(now)


class StartupRecovery:
    def __init__(self, layout: Layout, loop: Loop, settings: Settings) -> None:
        self.layout = layout
        self.loop = loop
        self.settings = settings

    def run(self, now: datetime) -> None:
        recovery.remove_stale_temp_files(self.layout, now)
        recovery.remove_stale_prompt_files(self.layout)
        try:
            entry = self.loop.running_file.load()
        except CorruptFile as error:
            entry = self._recover_damaged(error, now)
        try:
            attempt = Attempt.from_dict(entry)
        except NotATask:
            if entry.get("id"):  # a hand-written or foreign entry: an id the runner refuses
                self._archive_unusable_id(entry, now)
            return  # else idle ({}), or only the id-less remains of a damaged file
        self._recover_entry(attempt, now)

    def _archive_unusable_id(self, entry: dict[str, Any], now: datetime) -> None:
        """running.json names a task by an id no task may have: its agent, if any, is ended
        and the task archived as `invalid` under an id derived from the entry (so a crash
        before running.json is cleared does not archive it twice), its prompt and fields
        kept - never silently dropped."""
        reason = f"running.json named the unusable task id {entry['id']!r}"
        digest = hashlib.sha256(orjson.dumps(entry, option=orjson.OPT_SORT_KEYS)).hexdigest()
        attempt = Attempt.from_dict({**entry, "id": f"running-{digest[:16]}"})
        recovery.end_leftover_group(attempt, self.settings.kill_grace)
        recovery.end_marked(attempt, self.settings.kill_grace)
        logger.bind(task=attempt.id).error("{}; archived as invalid", reason)
        try:
            if not self.loop.archive.holds_run(attempt.id, attempt.started_at, now):
                self.loop.archive.record_end(attempt, Outcome.INVALID, now, reason,
                                             attempts=attempt.task.attempts_made)
            self.loop.running_file.save({})
        except (CorruptFile, OSError) as problem:
            logger.error("cannot archive {} now: {}", attempt.id, problem)

    def _recover_damaged(self, error: CorruptFile, now: datetime) -> dict[str, Any]:
        """A damaged running.json is kept under another name - never overwritten - and
        what can still be read of it is recovered like an intact entry."""
        raw = error.path.read_bytes()
        aside = recovery.set_aside(error.path, now)
        salvaged = recovery.salvage(raw)
        logger.error("running.json cannot be parsed ({}); kept as {}; recovering task {}",
                     error.reason, aside.name, salvaged.get("id", "(no id readable)"))
        if not valid_id(salvaged.get("id")):
            return {}
        attempt = salvaged.get("attempt")
        salvaged["attempt"] = attempt if isinstance(attempt, int) and attempt > 0 else 1
        if isinstance(salvaged.get("prompt"), str):
            return salvaged
        try:
            self._archive_unrecoverable(Attempt.from_dict(salvaged), aside.name, now)
        except (CorruptFile, OSError) as problem:
            logger.error("cannot archive {} now: {}", salvaged["id"], problem)
        return {}

    def _archive_unrecoverable(self, salvaged: Attempt, aside: str, now: datetime) -> None:
        """Only the id is readable: the task cannot run again; it gets a failed record."""
        loop, task_id = self.loop, salvaged.id
        recovery.end_marked(salvaged, self.settings.kill_grace)
        queued = task_id in {task.id for task in loop.queue.tasks()}
        if queued or loop.archive.holds_run(task_id, salvaged.started_at, now):
            return
        bare = Attempt(task=Task(id=task_id), started_at=salvaged.started_at)
        loop.archive.record_end(
            bare, Outcome.ERROR, now,
            f"running.json was damaged (kept as {aside}); the task could not be recovered",
            attempts=salvaged.number)

    def _recover_entry(self, entry: Attempt, now: datetime) -> None:
        loop = self.loop
        task_id = entry.id
        output = None
        group_ended = recovery.end_leftover_group(entry, self.settings.kill_grace)
        if recovery.end_marked(entry, self.settings.kill_grace) or group_ended:
            logger.bind(task=task_id).warning("ended the agent left running by a crash")
        elif entry.started_at:
            output = recovery.output_of_attempt(self.layout.task_log(task_id),
                                                attempt_marker(entry))
        try:
            queued = any(task.id == task_id for task in loop.queue.tasks())
        except CorruptFile:
            logger.error("queue.json cannot be parsed; {} stays in running.json", task_id)
            return
        finished = recovery.finished_verdict(output, now, self.settings)
        decision = recovery.disposition(
            loop.archive.holds_run(task_id, entry.started_at, now), queued,
            recovery.cancel_requested(self.layout, task_id), finished is not None)
        logger.bind(task=task_id).warning("found in running.json at start: {}", decision)
        loop.recover(entry, decision, finished, now)
