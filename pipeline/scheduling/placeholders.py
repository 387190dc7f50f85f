"""Schedule prompt placeholders, filled when a schedule's copy is enqueued (pure).

A prompt may name `{date}`, `{schedule_id}`, `{last_run}`, `{report_path}`,
`{evaluation_path}` and `{queue_level}`; `{{` and `}}` are literal braces. Anything else in
braces (an unknown name, a format spec, a lone brace) is a problem of the schedule: it goes
to the schedule's `error` and the schedule does not fire, rather than reaching the agent as
a silent literal.
"""

from __future__ import annotations

from string import Formatter

__all__ = ["PLACEHOLDERS", "fill", "prompt_problem"]

PLACEHOLDERS = {
    "date": "the firing's date, YYYY-MM-DD, in the schedule's time zone",
    "schedule_id": "the schedule's id",
    "last_run": "the schedule's previous firing (ISO time), or 'never'",
    "report_path": "yesterday's daily report (logs/reports/YYYY-MM-DD.md under the root)",
    "evaluation_path": "the newest docs/evaluations/*.md in the workspace, or '(none yet)'",
    "queue_level": "the backpressure level when the copy was enqueued: ok, busy or full",
}

_ESCAPE_HINT = "write {{ and }} for literal braces"


def _pieces(prompt: str) -> list[tuple[str, str | None, str | None, str | None]]:
    """Formatter's parse; raises ValueError on a lone brace."""
    return list(Formatter().parse(prompt))


def prompt_problem(prompt: str) -> str | None:
    """Why `prompt` cannot be filled, or None."""
    try:
        pieces = _pieces(prompt)
    except ValueError:
        return f"prompt has an unmatched brace ({_ESCAPE_HINT})"
    for _literal, name, spec, conversion in pieces:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join("{" + key + "}" for key in PLACEHOLDERS)
            return f"prompt has an unknown placeholder {{{name}}} (known: {known}; {_ESCAPE_HINT})"
        if spec or conversion:
            return f"prompt placeholder {{{name}}} takes no format or conversion"
    return None


def fill(prompt: str, values: dict[str, str]) -> str:
    """The prompt with its placeholders replaced; call only when prompt_problem is None."""
    out = []
    for literal, name, _spec, _conversion in _pieces(prompt):
        out.append(literal)
        if name is not None:
            out.append(values[name])
    return "".join(out)
