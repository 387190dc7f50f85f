"""`list` as a table a person reads at a glance, and `show ID`.

Each listing has a few fixed columns and one flexible last column (the prompt or the
error) that takes what is left of the terminal's width; every cell is cut with "…"
rather than wrapped, so a line never breaks mid-word at 80 columns.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.record import Record
from pipeline.domain.schedule import Schedule
from pipeline.domain.task import Task

Getter = Callable[[Any], str]  # of the listing's value: Task, Attempt, Record, a schedule


def _flat(value: Any) -> str:
    return " ".join(str(value).split()) if value not in (None, "") else "-"


def _label(task: Task) -> str:
    return " / ".join(part for part in (task.name, task.role) if part) or "-"


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


def _cost(record: Record) -> str:
    total = record.task.total_cost_usd
    value = total if total is not None else record.cost_usd
    return f"${value:.4f}" if value else "-"


def _field(name: str) -> Getter:
    return lambda item: _flat(item.get(name))


FLEX = None  # the column that takes the rest of the line
Column = tuple[str, Getter, int | None]  # header, getter, widest it may grow (FLEX: the rest)
_ID: Column = ("ID", lambda value: _flat(value.id), 30)
_PROMPT: Column = ("PROMPT", lambda t: _flat(t.prompt), FLEX)
_TIME: Column = ("TIME", lambda r: duration(r.duration_ms), 7)
_TRIES: Column = ("TRIES", lambda r: _flat(r.attempts), 5)
_OUTCOME: Column = ("OUTCOME", lambda r: _flat(r.outcome_name), 11)
_OF_TASK: Column = ("NAME/ROLE", lambda r: _label(r.task), 14)  # an Attempt's, a Record's
COLUMNS: dict[str, list[Column]] = {
    "queue": [_ID, ("NAME/ROLE", _label, 14), _TRIES,
              ("WAITS UNTIL", lambda t: _when(t.not_before), 11), _PROMPT],
    "running": [_ID, _OF_TASK, ("STARTED", lambda a: _when(a.started_at), 11),
                ("ATTEMPT", lambda a: _flat(a.number), 7),
                ("PROMPT", lambda a: _flat(a.task.prompt), FLEX)],
    "completed": [_ID, ("NAME/ROLE", lambda r: _label(r.task), FLEX), _OUTCOME,
                  ("STARTED", lambda r: _when(r.started_at), 11), _TIME, ("COST", _cost, 9),
                  _TRIES],
    "failed": [_ID, _OF_TASK, _OUTCOME, _TRIES, ("ERROR", lambda r: _flat(r.error), FLEX)],
    "scheduled": [("ID", lambda s: _flat(s.written("id")), 30),
                  ("ON", lambda s: "on" if s.enabled else "off", 3),
                  ("CRON", lambda s: _flat(s.written("cron")), 16),
                  ("NEXT RUN", lambda s: _when(s.next_run), 11),
                  ("PROMPT / PROBLEM", lambda s: "ERROR " + _flat(s.error)
                   if s.error else _flat(s.written("prompt")), FLEX)],
}


# how each listing's entries are read; an entry that is not one is shown as it is
READ: dict[str, Callable[[Any], Any]] = {
    "queue": Task.from_dict, "running": Attempt.from_dict, "completed": Record.from_dict,
    "failed": Record.from_dict, "scheduled": Schedule.from_dict}
FLEX_MIN = 8


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: max(0, width - 1)] + "…"


def _row(columns: list[Column], read: Callable[[Any], Any], item: Any) -> list[str]:  # noqa: ANN401
    try:
        value = read(item)
    except ValueError:
        return [_flat(item)] * len(columns)
    return [get(value) for _, get, _ in columns]


def render_table(which: str, items: list[Any], width: int) -> list[str]:
    """Header and one line per entry (as the file holds it), each at most `width`
    characters."""
    if not items:
        return [f"({which} is empty)"]
    columns = COLUMNS[which]
    rows = [_row(columns, READ[which], item) for item in items]
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


def render_show(shown: Task | Attempt | Record, where: str, log_tail: str) -> list[str]:
    """One task: where it is, its fields, its result or error, the tail of its log."""
    fields = shown.to_dict()  # every field, as the file has it
    lines = [f"{shown.id}  ({where})"]
    skip = {"id", "prompt", "result", "error", "lastError"}
    for key, value in fields.items():
        if key not in skip:
            lines.append(f"  {key:<14} {_cut(_flat(value), 200)}")
    lines.append("prompt:")
    lines += ["  " + line for line in str(fields.get("prompt", "")).splitlines()[:20]]
    for key in ("error", "lastError", "result"):
        if fields.get(key):
            lines.append(f"{key}:")
            lines += ["  " + line for line in str(fields[key]).splitlines()[:40]]
    if log_tail:
        lines.append("log (last lines):")
        lines += ["  " + line for line in log_tail.splitlines()]
    return lines
