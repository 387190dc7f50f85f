"""What must hold after any torture: every task archived exactly once, no corrupt JSON."""

from __future__ import annotations

import collections
import json
import os
from pathlib import Path

from helpers import history, records

BIG = os.environ.get("CLAUDE_RUNNER_TORTURE") == "big"


def size(normal: int, big: int) -> int:
    """The normal run's size, or the campaign's with CLAUDE_RUNNER_TORTURE=big."""
    return big if BIG else normal


def assert_no_corrupt_json(root: Path) -> None:
    for path in (root / "tasks").glob("*.json"):
        text = path.read_text(encoding="utf-8")
        assert text.strip(), f"{path.name} is empty"
        json.loads(text)  # raises on damage
    for path in (root / "tasks" / "history").glob("*.jsonl"):
        for line in path.read_text(encoding="utf-8").split("\n"):  # not splitlines: U+2028
            if line:
                json.loads(line)


def terminal_counts(root: Path) -> tuple[collections.Counter, collections.Counter]:
    archived = collections.Counter(r["id"] for which in ("completed", "failed")
                                   for r in records(root, which))
    return archived, collections.Counter(r["id"] for r in history(root))


def assert_each_archived_once(root: Path, ids: set[str]) -> None:
    archived, logged = terminal_counts(root)
    assert set(archived) == ids, (ids - set(archived), set(archived) - ids)
    assert set(logged) == ids, (ids - set(logged), set(logged) - ids)
    assert max(archived.values()) == 1, [i for i, n in archived.items() if n > 1]
    assert max(logged.values()) == 1, [i for i, n in logged.items() if n > 1]
