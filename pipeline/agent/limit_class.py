"""Which usage limit a message or a `rate_limit_event` names (pure).

Classes (stored as `pauseClass` in tasks/state.json):
- `session`: the rolling 5-hour window (`session limit`, `5-hour limit`, the old
  `usage limit reached|<epoch>`, the plain `You've hit your limit`);
- `weekly`: the 7-day window (`weekly limit`);
- `model`: a model's own window (`Opus limit`, `Sonnet limit`, `seven_day_opus`), which
  another model may answer (`fallback_model`);
- `spending_cap`: a spend limit someone set (`Spending cap reached`, `monthly spend limit`,
  an API key's `specified API usage limits`);
- `credit`: extra usage or credits used up (`out of extra usage`, `out of usage credits`,
  `org is out of usage`), until the billing cycle ends or credit is bought;
- `unknown`: a limit whose wording names none of these.
"""

from __future__ import annotations

import re

CLASSES = ("session", "weekly", "model", "spending_cap", "credit", "unknown")

# first match wins: the more specific words first
_BY_WORDS = (
    ("spending_cap", re.compile(r"spend(?:ing)?\s+(?:cap|limit)|specified\s+API\s+usage\s+limit",
                                re.IGNORECASE)),
    ("credit", re.compile(r"extra\s+usage|usage\s+credits|credit|out\s+of\s+usage",
                          re.IGNORECASE)),
    ("model", re.compile(r"\b(?:opus|sonnet|haiku)\b", re.IGNORECASE)),
    ("weekly", re.compile(r"\bweekly\b|\bseven[_ -]day\b|\b7-day\b", re.IGNORECASE)),
    ("session", re.compile(r"\bsession\b|\b\d+-hour\b|five_hour|usage\s+limit\s+reached"
                           r"|\bdaily\b|hit\s+your\s+(?:usage\s+)?limit", re.IGNORECASE)),
)
# rate_limit_event `rateLimitType` values
_BY_TYPE = {"five_hour": "session", "seven_day": "weekly", "seven_day_opus": "model",
            "seven_day_sonnet": "model", "overage": "credit"}


def classify(message: str, rate_limit_type: str | None = None) -> str:
    """The class of a detected limit; the stream's `rateLimitType` wins when known."""
    if rate_limit_type in _BY_TYPE:
        return _BY_TYPE[rate_limit_type]
    for name, pattern in _BY_WORDS:
        if pattern.search(message):
            return name
    return "unknown"
