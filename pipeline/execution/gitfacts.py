"""What a task did to its git workspace: the record's `git` field.

`{"headBefore", "headAfter", "commits", "filesChanged", "insertions", "deletions",
"subjects"}` - HEAD when the task's first attempt started and when it ended, the commits
between them with their subject lines, and the diff's size. Present only for a git
workspace. The parsers are pure; `head` and `facts` run git with a timeout and answer None
(no facts) when git is missing, slow or the folder is not a repository: a task's record is
never held up by them.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 10.0  # seconds per git call
NO_COMMIT = ""  # headBefore of a repository that had no commit yet
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree, to diff from
MARK = "gitHeadBefore"  # kept in the task from its first attempt's start to its record
_STAT = re.compile(r"(\d+) (file|insertion|deletion)")


def parse_shortstat(text: str) -> tuple[int, int, int]:
    """`git diff --shortstat` -> (files changed, insertions, deletions)."""
    found = {kind: int(count) for count, kind in _STAT.findall(text)}
    return found.get("file", 0), found.get("insertion", 0), found.get("deletion", 0)


def parse_subjects(text: str) -> list[str]:
    """`git log --format=%s` -> subjects, oldest first."""
    return [line for line in text.splitlines() if line.strip()][::-1]


def _git(workspace: Path, *args: str) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(workspace), *args], capture_output=True,
                              text=True, timeout=GIT_TIMEOUT, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def in_repository(workspace: Path) -> bool:
    """A `.git` in the folder or above it: checked without starting git, so that a task
    outside git costs nothing at its start (git itself answers the rest)."""
    folder = workspace.resolve()
    return any((candidate / ".git").exists() for candidate in (folder, *folder.parents))


def head(workspace: Path) -> str | None:
    """HEAD's commit; NO_COMMIT in a repository without commits; None outside git."""
    if not in_repository(workspace):
        return None
    commit = _git(workspace, "rev-parse", "--verify", "-q", "HEAD")
    if commit:
        return commit.strip()
    inside = _git(workspace, "rev-parse", "--is-inside-work-tree") is not None
    return NO_COMMIT if inside else None


def facts(workspace: Path, head_before: str) -> dict[str, Any] | None:
    """The record's `git` field for a task that started at `head_before`."""
    head_after = head(workspace)
    if not head_after:
        return None if head_after is None else _facts(head_before, NO_COMMIT, [], (0, 0, 0))
    span = f"{head_before}..{head_after}" if head_before else head_after
    log = _git(workspace, "log", "--format=%s", span)
    if log is None:
        return None
    stat = _git(workspace, "diff", "--shortstat", head_before or EMPTY_TREE, head_after)
    return _facts(head_before, head_after, parse_subjects(log), parse_shortstat(stat or ""))


def _facts(before: str, after: str, subjects: list[str],
           stat: tuple[int, int, int]) -> dict[str, Any]:
    files, insertions, deletions = stat
    return {"headBefore": before or None, "headAfter": after or None,
            "commits": len(subjects), "filesChanged": files, "insertions": insertions,
            "deletions": deletions, "subjects": subjects}


def mark_start(task: dict[str, Any], workspace: Path) -> None:
    """Note HEAD in the task when its first attempt starts (kept through retries)."""
    if MARK not in task and (commit := head(workspace)) is not None:
        task[MARK] = commit


def record_fields(task: dict[str, Any], workspace: Path) -> dict[str, Any]:
    """`{"git": facts}` for a task marked at its start, else nothing."""
    before = task.get(MARK)
    if not isinstance(before, str):
        return {}
    found = facts(workspace, before)
    return {"git": found} if found is not None else {}


def subjects_between(workspace: Path, before: str | None, after: str) -> list[str] | None:
    """The subjects of the commits before..after (for records without `subjects`)."""
    log = _git(workspace, "log", "--format=%s", f"{before}..{after}" if before else after)
    return None if log is None else parse_subjects(log)
