"""Ids already in use: queued, running, or among the recent records.

completed.json / failed.json can hold thousands of records, so their ids are
cached per file and re-read only when the file's identity (inode, size, mtime)
changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.log import logger
from pipeline.storage.jsonfile import CorruptFile, JsonFile, signature
from pipeline.storage.layout import Layout

_Signature = tuple[int, int, int]


class RecentIds:
    """Ids of completed and failed records, cached by file signature."""

    def __init__(self, layout: Layout) -> None:
        self.files = [JsonFile(layout.completed, "list"), JsonFile(layout.failed, "list")]
        self._cache: dict[Path, tuple[_Signature | None, set[str]]] = {}

    def _ids_of(self, file: JsonFile) -> set[str]:
        current = signature(file.path)
        cached = self._cache.get(file.path)
        if cached and cached[0] == current:
            return cached[1]
        try:
            ids = {r["id"] for r in file.items() if isinstance(r, dict) and "id" in r}
        except CorruptFile as error:
            logger.warning("cannot check duplicates against {}: {}", file.path.name, error.reason)
            ids = set()
        self._cache[file.path] = (current, ids)
        return ids

    def all(self) -> set[str]:
        return set().union(*(self._ids_of(file) for file in self.files))


def ids_of(tasks: list[Any]) -> set[str]:
    return {t["id"] for t in tasks if isinstance(t, dict) and isinstance(t.get("id"), str)}
