"""`list` as a table a person reads at a glance, and `show ID`.

Each listing has a few fixed columns and one flexible last column (the prompt or the
error) that takes what is left of the terminal's width; every cell is cut with "…"
rather than wrapped, so a line never breaks mid-word at 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.domain.clock import parse_iso_or_none

Getter = Callable[[dict[str, Any]], str]


def _flat(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else "-"


def _label(item: dict[str, Any]) -> str:
    parts = [str(item[k]) for k in ("name", "role") if item.get(k)]
    return " / ".join(parts) or "-"


def _when(value: Any) -> str:
    moment = parse_iso_or_none(value)
    return f"{moment.astimezone():%m-%d %H:%M}" if moment else "-"


def duration(ms: Any) -> str:
    if not isinstance(ms, int | float) or isinstance(ms, bool):
        return "-"
    seconds = ms / 1000
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(int(seconds), 60)
    return f"{minutes}m{rest:02d}s" if minutes < 60 else f"{minutes // 60}h{minutes % 60:02d}m"


def _cost(item: dict[str, Any]) -> str:
    value = item.get("totalCostUsd", item.get("costUsd"))
    return f"${value:.4f}" if isinstance(value, int | float) and value else "-"


def _field(name: str) -> Getter:
    return lambda item: _flat(item.get(name))


FLEX = None  # the column that takes the rest of the line
Column = tuple[str, Getter, int | None]  # header, getter, widest it may grow (FLEX: the rest)
_ID: Column = ("ID", _field("id"), 30)
_WHO: Column = ("NAME/ROLE", _label, 14)
_STARTED: Column = ("STARTED", lambda t: _when(t.get("startedAt")), 11)
_TIME: Column = ("TIME", lambda t: duration(t.get("durationMs")), 7)
_TRIES: Column = ("TRIES", _field("attempts"), 5)
_PROMPT: Column = ("PROMPT", _field("prompt"), FLEX)
COLUMNS: dict[str, list[Column]] = {
    "queue": [_ID, _WHO, _TRIES,
              ("WAITS UNTIL", lambda t: _when(t.get("notBefore")), 11), _PROMPT],
    "running": [_ID, _WHO, _STARTED, ("ATTEMPT", _field("attempt"), 7), _PROMPT],
    "completed": [_ID, ("NAME/ROLE", _label, FLEX), ("OUTCOME", _field("outcome"), 11),
                  _STARTED, _TIME, ("COST", _cost, 9), _TRIES],
    "failed": [_ID, _WHO, ("OUTCOME", _field("outcome"), 11), _TRIES,
               ("ERROR", _field("error"), FLEX)],
    "scheduled": [_ID, ("ON", lambda s: "off" if s.get("enabled") is False else "on", 3),
                  ("CRON", _field("cron"), 16),
                  ("NEXT RUN", lambda s: _when(s.get("nextRun")), 11),
                  ("PROMPT / PROBLEM", lambda s: "ERROR " + _flat(s["error"])
                   if s.get("error") else _flat(s.get("prompt")), FLEX)],
}
FLEX_MIN = 8


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def render_table(which: str, items: list[Any], width: int) -> list[str]:
    """Header and one line per item, each at most `width` characters."""
    if not items:
        return [f"({which} is empty)"]
    columns = COLUMNS[which]
    rows = [[get(item) if isinstance(item, dict) else _flat(item) for _, get, _ in columns]
            for item in items]
    natural = [max(len(header), *(len(r[i]) for r in rows))
               for i, (header, _, _) in enumerate(columns)]
    widths = [n if cap is FLEX else min(cap, n) for n, (_, _, cap) in zip(natural, columns,
                                                                           strict=True)]
    flex = next(i for i, (_, _, cap) in enumerate(columns) if cap is FLEX)
    others = sum(w for i, w in enumerate(widths) if i != flex) + 2 * (len(columns) - 1)
    widths[flex] = min(natural[flex], max(FLEX_MIN, width - others))
    lines = []
    for cells in [[header for header, _, _ in columns], *rows]:
        parts = [_cut(c, w).ljust(w) for c, w in zip(cells, widths, strict=True)]
        lines.append(_cut("  ".join(parts).rstrip(), width))
    return lines


def render_show(task: dict[str, Any], where: str, log_tail: str) -> list[str]:
    """One task: where it is, its fields, its result or error, the tail of its log."""
    lines = [f"{task.get('id')}  ({where})"]
    skip = {"id", "prompt", "result", "error", "lastError"}
    for key, value in task.items():
        if key not in skip:
            lines.append(f"  {key:<14} {_cut(_flat(value), 200)}")
    lines.append("prompt:")
    lines += ["  " + line for line in str(task.get("prompt", "")).splitlines()[:20]]
    for key in ("error", "lastError", "result"):
        if task.get(key):
            lines.append(f"{key}:")
            lines += ["  " + line for line in str(task[key]).splitlines()[:40]]
    if log_tail:
        lines.append("log (last lines):")
        lines += ["  " + line for line in log_tail.splitlines()]
    return lines
