"""API-error classification for Claude Code's output: is a failed attempt an authentication
problem ("auth"), a transient API or network error ("transient"), or something else ("other")?

Pure: the caller passes Claude's parsed JSON result (or None) and the raw stdout + stderr.
Usage limits are detected separately, by `pipeline.agent.usage_limit`.
"""

from __future__ import annotations

import re

__all__ = ["classify_api_error"]

_AUTH_TEXT = re.compile(
    r"invalid api key|please run /login|not logged in|oauth token (?:has )?(?:expired|revoked)"
    r"|failed to authenticate|authentication_error|authentication_failed"
    r"|disabled organization|disabled api key authentication",
    re.IGNORECASE,
)
_TRANSIENT_TEXT = re.compile(
    r"request timed out|overloaded|server is temporarily limiting requests"
    r"|request rejected \(429\)|connection error|econnreset|econnrefused|socket hang up"
    r"|internal server error|bad gateway|service unavailable|high load"
    r"|temporary network issue|unable to connect",
    re.IGNORECASE,
)
_TRANSIENT_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504, 529})


def classify_api_error(result: dict | None, text: str) -> str:
    """Classify a failed attempt as "auth", "transient" or "other".

    `result` is Claude's parsed JSON result (or None), `text` the raw stdout + stderr.
    """
    status = _status(result)
    message = _message(result, text)
    if status in (401, 403) or _AUTH_TEXT.search(message):
        return "auth"
    if status in _TRANSIENT_STATUS or _TRANSIENT_TEXT.search(message):
        return "transient"
    return "other"


def _status(result: dict | None) -> int | None:
    value = (result or {}).get("api_error_status")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _message(result: dict | None, text: str) -> str:
    value = (result or {}).get("result")
    return f"{value if isinstance(value, str) else ''}\n{text}"
