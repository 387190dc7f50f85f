"""Git facts of a workspace around an attempt: what the agent committed and changed.

`snapshot` before the agent starts, `facts` after it ended: a few `git` calls, each
with a timeout (None outside a repository - found without starting git - or when git is
missing or slow). The parsing and the record are pure functions (`parse_shortstat`,
`parse_subjects`, `git_record`, `left_changes`) so other parts (counting optimisations)
can reuse them. The record: `{"headBefore", "headAfter", "commits", "filesChanged",
"insertions", "deletions", "subjects"}` (the commits' subject lines, oldest first).
"""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

GIT_TIMEOUT = 10.0
EMPTY_TREE = "4b825dc642cb6eb9a060e54bf8d69288fbee4904"  # git's empty tree: no commits yet
_STAT = re.compile(r"(\d+) (file|insertion|deletion)")


@dataclass(frozen=True)
class Snapshot:
    head: str | None   # None: a repository without commits yet
    tree: str          # a digest of the working tree's state (status + diff against HEAD)


# ---------------------------------------------------------------- pure


def parse_shortstat(text: str) -> tuple[int, int, int]:
    """`git diff --shortstat`: " 3 files changed, 10 insertions(+), 2 deletions(-)"."""
    found = {kind: int(number) for number, kind in _STAT.findall(text)}
    return found.get("file", 0), found.get("insertion", 0), found.get("deletion", 0)


def parse_subjects(text: str) -> list[str]:
    """`git log --format=%s` (newest first) -> subjects, oldest first."""
    return [line for line in text.splitlines() if line.strip()][::-1]


def git_record(head_before: str | None, head_after: str | None, subjects: list[str],
               shortstat: str) -> dict[str, Any]:
    files, insertions, deletions = parse_shortstat(shortstat)
    return {"headBefore": head_before, "headAfter": head_after, "commits": len(subjects),
            "filesChanged": files, "insertions": insertions, "deletions": deletions,
            "subjects": subjects}


def left_changes(before: Snapshot, after: Snapshot) -> bool:
    """A new commit, or a working tree that is not as it was."""
    return before != after


# ---------------------------------------------------------------- git


def _git(workspace: Path, *args: str) -> subprocess.CompletedProcess[bytes] | None:
    env = {**os.environ, "GIT_OPTIONAL_LOCKS": "0", "LC_ALL": "C"}
    try:
        return subprocess.run(["git", *args], cwd=workspace, env=env,  # noqa: S603,S607
                              stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=GIT_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError):
        return None


def in_repository(workspace: Path) -> bool:
    """A `.git` in the folder or above it: checked without starting git, so that a task
    outside git costs nothing (git itself answers the rest)."""
    folder = workspace.resolve()
    return any((candidate / ".git").exists() for candidate in (folder, *folder.parents))


def snapshot(workspace: Path) -> Snapshot | None:
    """The state of the repository at `workspace`; None when it is not one."""
    if not in_repository(workspace):
        return None
    status = _git(workspace, "status", "--porcelain=v1", "-z", "--untracked-files=all")
    if status is None or status.returncode != 0:
        return None
    head = _git(workspace, "rev-parse", "-q", "--verify", "HEAD")
    head_id = head.stdout.decode().strip() if head and head.returncode == 0 else None
    digest = hashlib.sha256(status.stdout)
    if status.stdout and head_id:
        diff = _git(workspace, "diff", "HEAD", "--binary", "--no-ext-diff")
        digest.update(diff.stdout if diff else b"?")
    return Snapshot(head_id, digest.hexdigest())


def facts(workspace: Path, before: Snapshot) -> tuple[dict[str, Any], bool] | None:
    """(the record's `git` object, whether the attempt left changes); None on a git error."""
    after = snapshot(workspace)
    if after is None:
        return None
    subjects: list[str] = []
    if after.head and after.head != before.head:
        subjects = subjects_between(workspace, before.head, after.head) or []
    stat = _git(workspace, "diff", "--shortstat", before.head or EMPTY_TREE)
    shortstat = stat.stdout.decode(errors="replace") if stat and stat.returncode == 0 else ""
    return git_record(before.head, after.head, subjects, shortstat), left_changes(before, after)


def subjects_between(workspace: Path, before: str | None, after: str) -> list[str] | None:
    """The subjects of the commits before..after, oldest first (None on a git error)."""
    log = _git(workspace, "log", "--format=%s", f"{before}..{after}" if before else after)
    if log is None or log.returncode != 0:
        return None
    return parse_subjects(log.stdout.decode(errors="replace"))
