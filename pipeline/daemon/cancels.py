"""Cancel requests as the loop handles them: a regular file `tasks/cancel/<id>` asks for
that task's end. A queued task is archived as cancelled and its request deleted; for the
running task the loop ends its process group (the request goes once the end is recorded).
Anything else in the folder is reported once and left alone - never deleted."""

from __future__ import annotations

import os
import stat
from datetime import datetime
from pathlib import Path

from pipeline.domain.attempt import StopReason
from pipeline.domain.task import valid_id
from pipeline.execution.agent_process import AgentProcess
from pipeline.log import logger
from pipeline.log_once import Repeats
from pipeline.stages import cancel
from pipeline.stages.archive import Archive
from pipeline.stages.inbox_entry import readable
from pipeline.storage.jsonfile import CorruptFile
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue


class CancelRequests:
    def __init__(self, layout: Layout, queue: TaskQueue, archive: Archive,
                 repeats: Repeats) -> None:
        self.layout = layout
        self.queue = queue
        self.archive = archive
        self.repeats = repeats

    def handle(self, running_id: str | None, execution: AgentProcess | None,
               now: datetime) -> None:
        """Each request on its own: one odd request never stops the others or the tick."""
        for request in cancel.pending_requests(self.layout):
            try:
                self._one(request, running_id, execution, now)
            except Exception as error:  # noqa: BLE001
                self.repeats.log(f"cancel:{request}", f"cannot handle the cancel request "
                                 f"{readable(request.name)}: {error!r}", logger.error)

    def _one(self, request: Path, running_id: str | None, execution: AgentProcess | None,
             now: datetime) -> None:
        task_id = request.name
        if not valid_id(task_id) or not stat.S_ISREG(os.lstat(request).st_mode):
            self.repeats.log(f"cancel:{request}", f"ignoring {readable(task_id)} in "
                             "tasks/cancel: not a request file named by a task id",
                             logger.warning)
            return
        if task_id == running_id:
            if execution and execution.stop_reason is None:
                logger.bind(task=task_id).info("cancel requested: ending its process group")
                execution.stop(StopReason.CANCEL)
            return
        try:
            cancel.cancel_queued(self.queue, self.archive, task_id, now)
        except (CorruptFile, OSError) as error:
            self.repeats.log(f"cancel:{task_id}", f"cannot cancel {task_id} now: {error}",
                             logger.error)
            return
        request.unlink(missing_ok=True)
