"""Start-up: what a previous run left behind.

A task left in running.json was interrupted by a crash: its process group is
ended (only if it is still the process we started), and the attempt counts as
failed with outcome `interrupted` - back to the head of the queue while retries
remain - unless it was already archived, is already queued again, or was
cancelled meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import time
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any

from pipeline.agent.presets import speaks_claude_json
from pipeline.agent.verdict import Verdict, judge
from pipeline.domain.attempt import Attempt, AttemptEnd
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.execution import procgroup, proctree
from pipeline.storage.layout import Layout, remove_older_than


class Disposition(StrEnum):
    ALREADY_DONE = "already-done"      # archived or back in the queue before the crash
    CANCELLED = "cancelled"            # a cancel was requested while the runner was down
    FINISHED = "finished"              # the agent finished on its own while we were down
    INTERRUPTED = "interrupted"        # a counted attempt; retried like any failure


def disposition(archived: bool, queued: bool, cancel_requested: bool,
                finished_ok: bool = False) -> Disposition:
    """Pure decision for the task found in running.json at start."""
    if archived or queued:
        return Disposition.ALREADY_DONE
    if cancel_requested:
        return Disposition.CANCELLED
    if finished_ok:
        return Disposition.FINISHED
    return Disposition.INTERRUPTED


def output_of_attempt(log_path: Path, marker: str) -> str | None:
    """What the attempt whose header starts with `marker` wrote to the task log.

    After a crash, an agent that finished on its own before the runner came back
    has its result here, so its work is not thrown away and done twice.
    """
    try:
        text = log_path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    at = text.rfind(marker)
    if at < 0:
        return None
    return text[at:].split("\n", 1)[1] if "\n" in text[at:] else ""


def end_leftover_group(entry: Attempt, grace: float) -> bool:
    """End what is left of the agent's group if it is still the one we started.

    Returns whether the agent itself was still running (False: it had finished, and
    its result may be in the task log).
    """
    pid = entry.pid
    if pid is None or pid <= 0 or not procgroup.group_alive(pid):
        return False
    recorded = entry.pid_start_ticks
    if recorded is not None and procgroup.start_ticks(pid) not in (None, recorded):
        return False  # the number now belongs to someone else: end nothing we did not start
    agent_running = procgroup.running(pid)
    procgroup.terminate(pid)
    deadline = time.monotonic() + grace
    while procgroup.group_alive(pid) and procgroup.running(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    procgroup.kill(pid)
    return agent_running


def end_marked(entry: Attempt, grace: float) -> bool:
    """End every process still carrying the attempt's marker - found even when the
    crash came between the spawn and the pid write, or after a double fork. Returns
    whether there was any."""
    marker = entry.attempt_id
    if not marker:
        return False
    found = proctree.marked_anywhere(marker)
    proctree.end(found, grace)
    return bool(found)


def salvage(raw: bytes) -> dict[str, Any]:
    """The top-level fields still readable in a damaged running.json (pure): each
    `"key": value` whose value parses on its own, e.g. id and prompt before a tear."""
    text = raw.decode("utf-8", errors="replace")
    decoder = json.JSONDecoder()
    found: dict[str, Any] = {}
    for match in re.finditer(r'"([A-Za-z][A-Za-z0-9_]*)"\s*:\s*', text):
        with contextlib.suppress(ValueError):
            value, _ = decoder.raw_decode(text, match.end())
            found.setdefault(match.group(1), value)
    return found


def set_aside(path: Path, now: datetime) -> Path:
    """Move a damaged file out of the way, never overwriting it (raises OSError)."""
    aside = path.with_name(f"{path.name}.damaged-{now:%Y%m%dT%H%M%S}")
    os.replace(path, aside)
    return aside


def remove_stale_temp_files(layout: Layout, now: datetime, older_than: float = 60.0) -> None:
    """Temp files of interrupted atomic writes (ours: `.<name>.<random>.tmp`)."""
    remove_older_than(layout.tasks.glob(".*.tmp"), now.timestamp() - older_than)


def remove_stale_prompt_files(layout: Layout) -> int:
    """`logs/tasks/<id>.prompt` files a crash left behind (no attempt runs at start-up:
    a leftover agent has its prompt on stdin already). Returns how many."""
    removed = 0
    for path in layout.task_logs.glob("*.prompt"):
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
    return removed


def cancel_requested(layout: Layout, task_id: str) -> bool:
    """A request is a regular file named by the id (a folder or a link there is not one)."""
    try:
        return stat.S_ISREG(os.lstat(Path(layout.cancel_requests, task_id)).st_mode)
    except OSError:
        return False


def finished_verdict(output: str | None, now: datetime, settings: Settings) -> Verdict | None:
    """The success verdict of an orphaned attempt that ended well, judged by its log
    (its exit code was lost with the crashed runner); None otherwise."""
    if output is None or not speaks_claude_json(settings):
        return None
    verdict = judge(AttemptEnd(0, False, None, output), now, settings.fail_on_permission_denials)
    return verdict if verdict.outcome is Outcome.SUCCESS else None
