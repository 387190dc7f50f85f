"""How values read in the page: durations, cron in words, masked settings (pure)."""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson
from cron_descriptor import ExpressionDescriptor, Options

from pipeline.domain.clock import parse_iso_or_none
from pipeline.domain.settings import Settings

MASK = "••••••"
_SECRET_WORDS = ("token", "key", "secret", "password", "dsn", "url", "auth")
_ALIASES = {"@hourly": "0 * * * *", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
            "@weekly": "0 0 * * 0", "@monthly": "0 0 1 * *", "@yearly": "0 0 1 1 *",
            "@annually": "0 0 1 1 *"}


def cron_words(expr: Any) -> str:
    """`0 * * * *` -> "Every hour", `5 0 * * *` -> "At 00:05"; the expression itself when
    it cannot be described."""
    text = str(expr or "").strip()
    options = Options()
    options.use_24hour_time_format = True
    try:
        return ExpressionDescriptor(_ALIASES.get(text, text), options).get_description()
    except Exception:  # noqa: BLE001 - any expression the library cannot describe
        return text


def _event_line(event: dict[str, Any]) -> str | None:
    """One stream-json event as a short line: the assistant's text or tool, or the result."""
    if event.get("type") == "result":
        return f"result: {event.get('result') or event.get('subtype') or ''}"
    if event.get("type") != "assistant":
        return None
    content = (event.get("message") or {}).get("content") or []
    for item in reversed(content if isinstance(content, list) else []):
        if isinstance(item, dict) and item.get("type") == "tool_use":
            return f"tool: {item.get('name')}"
        if isinstance(item, dict) and item.get("type") == "text" and item.get("text"):
            return " ".join(str(item["text"]).split())
    return None


def progress_line(log_tail: str, limit: int = 300) -> str:
    """The latest readable line of a task's log: for stream-json output the last assistant
    text, tool call or result; otherwise the last non-empty line."""
    for line in reversed(log_tail.splitlines()):
        line = line.strip()
        if not line:
            continue
        if not line.startswith("{"):
            return line[:limit]
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            return line[:limit]
        readable = _event_line(event) if isinstance(event, dict) else None
        if readable:
            return readable[:limit]
    return ""


def span(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 10:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    seconds = int(seconds)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    return f"{minutes} min {secs} s" if minutes else f"{secs} s"


def short_time(text: Any) -> str:
    """An ISO time as `YYYY-MM-DD HH:MM:SS` in the machine's zone."""
    moment = parse_iso_or_none(text)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment else "-"


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} %"


def usd(value: Any) -> str:
    return f"${value:.4f}" if isinstance(value, int | float) else "-"


def _secret(name: str) -> bool:
    return any(word in name.lower() for word in _SECRET_WORDS)


def _hide_urls(value: Any) -> Any:
    """`https://hooks.example/T0/secret` -> `https://••••••` (URLs often carry a key)."""
    if isinstance(value, str) and "://" in value:
        return value.split("://", 1)[0] + "://" + MASK
    if isinstance(value, tuple | list):
        return [_hide_urls(v) for v in value]
    return value


def _masked(name: str, value: Any) -> Any:
    if name == "agent_env":  # variables for the agent: names shown, values never
        return {k: MASK for k, _ in value}
    if _secret(name) and value not in (None, "", (), []):
        return MASK
    if isinstance(value, tuple) and value and all(isinstance(v, tuple) for v in value):
        return {k: _hide_urls(v) for k, v in value}
    return _hide_urls(value)


def settings_rows(settings: Settings) -> list[tuple[str, Any]]:
    """Every setting with secrets masked (names that say token, key, url, ... and [agent] env)."""
    return [(field.name, _plain(_masked(field.name, getattr(settings, field.name))))
            for field in dataclasses.fields(settings)]


def _plain(value: Any) -> Any:
    """JSON-ready: times and other objects as their text."""
    if value is None or isinstance(value, str | int | float | bool | dict):
        return value
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    return str(value)
