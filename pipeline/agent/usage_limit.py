"""Usage-limit detection for Claude Code's output.

Pure functions: the caller passes the agent's stdout + stderr and the current time.

Forms recognised (see DESIGN.md and the strings inside the 2.1.x CLI):
- ``Claude AI usage limit reached|1751230800`` (old CLIs; epoch seconds, or milliseconds)
- ``5-hour limit reached ∙ resets 3am`` (old; time in the machine's zone)
- ``You've hit your limit · resets 2am (Europe/Paris)``
- ``You've hit your session limit · resets 5:36am (UTC)``
- ``You've hit your weekly limit · resets Nov 28, 3:37am (Europe/Berlin)``
  (the CLI adds the year, ``Jan 2, 2027, 3am``, when it differs from the current one)
- ``You've hit your Opus limit``, ``… Sonnet limit``, ``… usage limit``, ``… monthly spend
  limit``, ``You're out of usage credits``, with or without ``· resets …``
- ``Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).`` (1.0.8x)
- ``API Error: 400 You have reached your specified API usage limits. You will regain access
  on 2026-04-01 at 00:00 UTC.`` (an API key's spend limit)

Not limits: ``Server is temporarily limiting requests (not your usage limit)``,
``API Error: Request rejected (429) · …`` (API-key 429), warnings such as
``You've used 90% of your session limit`` / ``Approaching …`` and fallback notices
(``… limit reached, now using Sonnet``).

A JSON result with ``is_error: false`` is a success: its text is never read as a limit,
so an agent that merely *talks* about usage limits does not pause the runner. With
``--output-format stream-json`` a ``rate_limit_event`` whose status is ``rejected`` gives the
exact reset epoch, which wins over the minute-precision text.

Text times have minute precision (the CLI drops the seconds), so a reset can be up to a
minute later than stated: callers should pause a little beyond ``resets_at``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson

from pipeline.agent.limit_class import classify

__all__ = ["UsageLimit", "detect_usage_limit"]


@dataclass(frozen=True)
class UsageLimit:
    message: str  # the matched line, trimmed
    resets_at: datetime | None  # aware, in UTC; None when the message gives no reset
    to_the_minute: bool = False  # a stated clock time: the reset is within that minute
    kind: str = field(default="unknown", compare=False)  # a class of limit_class.CLASSES


# A reset this far in the past is taken as "just now", not as tomorrow's occurrence.
_PAST_GRACE = timedelta(minutes=5)

_LEAD = r"^[\s>*•●⎿\-]*(?:(?:API\s+)?Error:\s*(?:\d{3}\s+)?)?"
_LIMIT_LINE = re.compile(
    _LEAD
    + r"(?:(?:Claude\s+(?:AI\s+)?)?usage\s+limit\s+reached"
    + r"|You(?:'|’|\s+ha)ve\s+(?:hit|reached)\s+your\b[^.·∙|\n]*?\blimit"
    + r"|(?:Claude\s+)?(?:(?:Opus|Sonnet)(?:\s+[\d.]+)?\s+)?"
    + r"(?:\d+-hour|weekly|daily|session|Opus|Sonnet)(?:\s+[\d.]+)?\s+limit\s+reached"
    + r"|You(?:'|’|\s+a)re\s+out\s+of\s+(?:usage\s+credits|extra\s+usage)"
    + r"|Spending\s+cap\s+reached"
    + r"|Your\s+org\s+is\s+out\s+of\s+usage)",
    re.IGNORECASE,
)
_NOT_A_LIMIT = re.compile(
    r"not\s+your\s+usage\s+limit|now\s+using|request\s+rejected\s+\(429\)|\brate\s+limit"
    r"|\bfast\s+limit",
    re.IGNORECASE,
)
_EPOCH = re.compile(r"usage\s+limit\s+reached\s*\|\s*(\d{9,14})", re.IGNORECASE)
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_RESET_AT = re.compile(
    r"\breset(?:s|ting)?\s+(?:at\s+|on\s+)?"
    r"(?:(?P<mon>[A-Za-z]{3})[a-z]*\.?\s+(?P<day>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?:(?P<year>\d{4}),?\s+)?(?:at\s+)?)?"
    r"(?P<hour>\d{1,2})(?::(?P<minute>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?(?![\w:])"
    r"(?:\s*\((?P<zone>[^)]+)\))?",
    re.IGNORECASE,
)
_RESET_ISO = re.compile(
    r"\b(?:resets?|regain\s+access)\b[^0-9\n]{0,20}(?P<date>\d{4}-\d{2}-\d{2})(?:T|\s+at\s+|\s+)"
    r"(?P<time>\d{2}:\d{2})(?::\d{2})?\s*(?P<utc>UTC|Z\b|GMT)?",
    re.IGNORECASE,
)
_RESET_IN = re.compile(
    r"\bresets?\s+in\s+(?=\d)(?:(?P<d>\d+)\s*d\w*)?\s*(?:(?P<h>\d+)\s*h\w*)?\s*"
    r"(?:(?P<m>\d+)\s*m\w*)?",
    re.IGNORECASE,
)


def detect_usage_limit(
    text: str, now: datetime, local_zone: tzinfo | None = None
) -> UsageLimit | None:
    """The usage limit reported in `text`, or None when there is none."""
    lines, exact_reset, limit_type = _candidate_lines(text)
    if lines is None:
        return None
    for line in lines:
        limit = _match_line(line, now, local_zone)
        if limit is not None:
            return _with_exact_reset(limit, exact_reset, limit_type)
    return None


def _with_exact_reset(limit: UsageLimit, exact: datetime | None,
                      limit_type: str | None) -> UsageLimit:
    kind = classify(limit.message, limit_type)
    if exact is None:
        return UsageLimit(limit.message, limit.resets_at, limit.to_the_minute, kind)
    return UsageLimit(limit.message, exact, kind=kind)


# ---------------------------------------------------------------- reading the text


def _candidate_lines(text: str) -> tuple[list[str] | None, datetime | None, str | None]:
    """Plain lines plus the texts of error results, and the reset and type of a rejecting
    `rate_limit_event`; lines None when a result says success."""
    lines: list[str] = []
    exact: datetime | None = None
    limit_type: str | None = None
    for item in _items(text):
        if isinstance(item, str):
            lines.append(item)
            continue
        if item.get("type") == "result" and item.get("is_error") is False:
            return None, None, None
        lines.extend(_result_texts(item))
        info = _rejected_info(item)
        if info:
            exact = _from_epoch(info.get("resetsAt")) or exact
            limit_type = info.get("rateLimitType") or limit_type
    return lines, exact, limit_type


def _items(text: str) -> list[dict[str, Any] | str]:
    """The text as one JSON object, or line by line (JSON objects parsed, others as text)."""
    whole = _json_object(text.strip())
    if whole is not None:
        return [whole]
    return [_json_object(line.strip()) or line for line in text.splitlines()]


def _json_object(text: str) -> dict[str, Any] | None:
    if not text.startswith("{"):
        return None
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def _result_texts(item: dict[str, Any]) -> list[str]:
    if item.get("type") != "result":
        return []
    texts = [item.get("result")] + list(item.get("errors") or [])
    return [line for t in texts if isinstance(t, str) for line in t.splitlines()]


def _rejected_info(item: dict[str, Any]) -> dict[str, Any] | None:
    """The `rate_limit_info` of a stream-json `rate_limit_event` that rejected the request
    (`status: allowed` with `overageStatus: rejected` is every subscription session
    without extra usage: not a limit)."""
    if item.get("type") != "rate_limit_event":
        return None
    info = item.get("rate_limit_info")
    if not isinstance(info, dict) or info.get("status") != "rejected":
        return None
    return info


# ---------------------------------------------------------------- one line


def _match_line(line: str, now: datetime, local_zone: tzinfo | None) -> UsageLimit | None:
    if not _LIMIT_LINE.search(line) or _NOT_A_LIMIT.search(line):
        return None
    return UsageLimit(line.strip(), *_reset_of(line, now, local_zone))


def _reset_of(line: str, now: datetime, local_zone: tzinfo | None
              ) -> tuple[datetime | None, bool]:
    """The reset and whether it is a clock time stated to the minute."""
    epoch = _EPOCH.search(line)
    if epoch:
        return _from_epoch(int(epoch.group(1))), False
    relative = _RESET_IN.search(line)
    if relative:
        return _after(now, relative), False
    iso = _RESET_ISO.search(line)
    if iso:
        return _iso_time(iso, now, local_zone), False
    absolute = _RESET_AT.search(line)
    if absolute and _plausible(absolute):
        return _clock_time(absolute, now, local_zone), True
    return None, False


def _from_epoch(value: object) -> datetime | None:
    """Epoch seconds (or milliseconds, when too large for seconds) as a UTC time."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    seconds = value / 1000 if value > 100_000_000_000 else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _after(now: datetime, match: re.Match[str]) -> datetime:
    d, h, m = (int(match.group(k) or 0) for k in ("d", "h", "m"))
    return (now + timedelta(days=d, hours=h, minutes=m)).astimezone(UTC)


def _iso_time(match: re.Match[str], now: datetime, local_zone: tzinfo | None) -> datetime | None:
    """`regain access on 2026-04-01 at 00:00 UTC` (API spend limits)."""
    zone = UTC if match.group("utc") else _zone(None, local_zone, now)
    try:
        naive = datetime.fromisoformat(f"{match.group('date')}T{match.group('time')}")
    except ValueError:
        return None
    return naive.replace(tzinfo=zone).astimezone(UTC)


def _plausible(match: re.Match[str]) -> bool:
    """A bare number after "resets" is a time only with am/pm or minutes (3am, 15:00)."""
    hour = int(match.group("hour"))
    if match.group("ampm"):
        return 1 <= hour <= 12 and _minute(match) < 60
    return match.group("minute") is not None and hour < 24 and _minute(match) < 60


def _minute(match: re.Match[str]) -> int:
    return int(match.group("minute") or 0)


def _clock_time(match: re.Match[str], now: datetime, local_zone: tzinfo | None) -> datetime | None:
    zone = _zone(match.group("zone"), local_zone, now)
    local_now = now.astimezone(zone)
    at = time(_hour24(match), _minute(match))
    if _month(match):
        return _dated(match, at, local_now)
    moment = datetime.combine(local_now.date(), at, zone)
    if moment < local_now - _PAST_GRACE:
        moment = datetime.combine(local_now.date() + timedelta(days=1), at, zone)
    return moment.astimezone(UTC)


def _month(match: re.Match[str]) -> int:
    name = (match.group("mon") or "").lower()[:3]
    return _MONTHS.index(name) + 1 if name in _MONTHS else 0


def _dated(match: re.Match[str], at: time, local_now: datetime) -> datetime | None:
    """`Nov 28, 3:37am`: the next such date (this year or the next) unless a year is given."""
    day, year = int(match.group("day")), match.group("year")
    years = [int(year)] if year else [local_now.year, local_now.year + 1]
    for candidate in years:
        moment = _safe_datetime(candidate, _month(match), day, at, local_now.tzinfo)
        if moment and (year or moment >= local_now - _PAST_GRACE):
            return moment.astimezone(UTC)
    return None


def _safe_datetime(
    year: int, month: int, day: int, at: time, zone: tzinfo | None
) -> datetime | None:
    try:
        return datetime.combine(date(year, month, day), at, zone)
    except ValueError:  # Feb 30 and the like
        return None


def _hour24(match: re.Match[str]) -> int:
    hour, ampm = int(match.group("hour")), (match.group("ampm") or "").lower()
    if ampm.startswith("p"):
        return hour % 12 + 12
    if ampm.startswith("a"):
        return hour % 12
    return hour


def _zone(name: str | None, local_zone: tzinfo | None, now: datetime) -> tzinfo:
    if name:
        try:
            return ZoneInfo(name.strip())
        except (ZoneInfoNotFoundError, ValueError, OSError):  # unknown name, no tz database
            pass
    return local_zone or now.astimezone().tzinfo or UTC

