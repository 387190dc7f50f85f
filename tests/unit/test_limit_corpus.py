"""Every usage-limit wording found in the public reports of the last year (Claude Code's
issue tracker, 2025-2026, and the strings of the 2.1.x CLI), with its class and reset -
and the look-alikes that are NOT limits. One table: add a row when a new form appears."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from pipeline.agent.limit_class import CLASSES, classify
from pipeline.agent.usage_limit import detect_usage_limit

NOW = datetime(2026, 11, 25, 15, 6, 42, tzinfo=UTC)  # a Wednesday


def error_result(text: str) -> str:
    return json.dumps({"type": "result", "subtype": "success", "is_error": True,
                       "api_error_status": 429, "result": text})


def stream(*events: dict) -> str:
    return "\n".join(json.dumps(e) for e in events)


def rate_limit_event(status: str, **info) -> dict:
    return {"type": "rate_limit_event", "rate_limit_info": {"status": status, **info}}


# (text, class or None for "not a limit", reset as ISO UTC, or None when none is stated)
CORPUS = [
    # session: the rolling 5-hour window
    ("Claude AI usage limit reached|1764087600", "session", "2025-11-25T16:20:00"),
    ("Claude AI usage limit reached|1764087600000", "session", "2025-11-25T16:20:00"),
    ("You've hit your session limit · resets 5:36am (UTC)", "session", "2026-11-26T05:37:00"),
    ("You've hit your session limit · resets 12:50am (America/Los_Angeles)", "session",
     "2026-11-26T08:51:00"),
    ("You've hit your session limit · resets 8:30pm (Asia/Tokyo)", "session",
     "2026-11-26T11:31:00"),
    ("You've hit your session limit · resets 1:20pm (Asia/Calcutta)", "session",
     "2026-11-26T07:51:00"),
    ("You've hit your session limit", "session", None),
    ("You've hit your limit · resets 2am (Europe/Paris)", "session", "2026-11-26T01:01:00"),
    ("You've hit your limit · resets 4pm (Asia/Kuala_Lumpur)", "session",
     "2026-11-26T08:01:00"),
    ("You’ve hit your limit for Claude messages. Limits will reset at 9:30 AM.", "session",
     None),
    ("5-hour limit reached ∙ resets 3am", "session", None),
    ("Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw).", "session",
     "2026-11-25T16:01:00"),
    (error_result("You've hit your session limit · resets 6:40pm (Asia/Kolkata)"), "session",
     "2026-11-26T13:11:00"),
    (stream(rate_limit_event("rejected", resetsAt=1764090000, rateLimitType="five_hour"),
            json.loads(error_result("You've hit your limit · resets 5pm"))), "session",
     "2025-11-25T17:00:00"),
    # weekly
    ("You've hit your weekly limit · resets Nov 28, 3:37am (Europe/Berlin)", "weekly",
     "2026-11-28T02:38:00"),
    ("You've hit your weekly limit · resets Jun 7, 4pm (Europe/Rome)", "weekly",
     "2027-06-07T14:01:00"),
    ("You've hit your weekly limit · resets Sep 15 at 7pm", "weekly", None),
    ("You've hit your weekly limit · resets Jul 31, 2am (UTC)", "weekly",
     "2027-07-31T02:01:00"),
    ("You've hit your weekly limit · resets Jan 2, 2027, 3am (UTC)", "weekly",
     "2027-01-02T03:01:00"),
    ("You've hit your weekly limit", "weekly", None),
    ("Weekly limit reached ∙ resets Dec 1, 9am", "weekly", None),
    (stream(rate_limit_event("rejected", resetsAt=1764600000, rateLimitType="seven_day"),
            json.loads(error_result("You've hit your limit"))), "weekly",
     "2025-12-01T14:40:00"),
    # model: a model's own window
    ("You've hit your Opus limit · resets 6pm (UTC)", "model", "2026-11-25T18:01:00"),
    ("You've hit your Sonnet limit", "model", None),
    ("Opus limit reached ∙ resets 5pm", "model", None),
    ("Opus weekly limit reached ∙ resets Oct 9, 10am", "model", None),
    ("Claude Opus 4 limit reached, please switch with /model", "model", None),
    (stream(rate_limit_event("rejected", resetsAt=1764600000,
                             rateLimitType="seven_day_opus"),
            json.loads(error_result("You've hit your limit"))), "model",
     "2025-12-01T14:40:00"),
    # spending caps set by someone
    ("Spending cap reached resets 6pm", "spending_cap", "2026-11-25T18:01:00"),
    ("You've hit your monthly spend limit", "spending_cap", None),
    ("API Error: 400 You have reached your specified API usage limits. You will regain "
     "access on 2026-12-01 at 00:00 UTC.", "spending_cap", "2026-12-01T00:00:00"),
    # extra usage / credits used up
    ("You're out of extra usage · resets 11:30am (Asia/Colombo)", "credit",
     "2026-11-26T06:01:00"),
    ("You're out of extra usage · resets Feb 4, 8pm (Europe/Budapest)", "credit",
     "2027-02-04T19:01:00"),
    ("You're out of usage credits", "credit", None),
    ("Your org is out of usage credits until the billing cycle ends", "credit", None),
    # a limit whose wording names no known window
    ("You've reached your usage limit · resets 3pm (UTC)", "unknown", "2026-11-26T15:01:00"),
    # look-alikes that are NOT limits
    (stream(rate_limit_event("allowed", overageStatus="rejected", resetsAt=1764600000,
                             rateLimitType="five_hour"),
            {"type": "result", "subtype": "success", "is_error": False, "result": "Done."}),
     None, None),
    (stream(rate_limit_event("allowed", overageStatus="rejected"),
            json.loads(error_result("API Error: 500 Internal server error"))), None, None),
    ("API Error: Request rejected (429) · This request would exceed your account's rate "
     "limit. Please try again later.", None, None),
    (error_result("API Error: Request rejected (429) · rate_limit_error"), None, None),
    ("API Error: Server is temporarily limiting requests (not your usage limit) · Rate "
     "limited", None, None),
    ("API Error: Rate limit reached", None, None),
    ("You've used 90% of your session limit · resets 3pm (UTC)", None, None),
    ("Approaching usage limit · resets at 3pm", None, None),
    ("Opus limit reached, now using Sonnet", None, None),
    (json.dumps({"type": "result", "subtype": "success", "is_error": False,
                 "result": "I documented how the runner handles 'usage limit reached|123'"}),
     None, None),
]


@pytest.mark.parametrize(("text", "kind", "reset"), CORPUS,
                         ids=[f"{i:02d}-{row[1]}" for i, row in enumerate(CORPUS)])
def test_limit_corpus(text: str, kind: str | None, reset: str | None) -> None:
    limit = detect_usage_limit(text, NOW)
    if kind is None:
        assert limit is None, limit
        return
    assert limit is not None, text
    assert limit.kind == kind
    if reset is None:
        return
    resets = limit.resets_at
    if limit.to_the_minute:  # a stated clock time: paused to the end of that minute
        resets = resets + timedelta(minutes=1)
    assert resets == datetime.fromisoformat(reset).replace(tzinfo=UTC)


def test_the_corpus_covers_every_class_and_look_alikes() -> None:
    kinds = {row[1] for row in CORPUS}
    assert kinds == set(CLASSES) | {None}
    assert len(CORPUS) >= 40


def test_the_stream_type_wins_over_the_words() -> None:
    assert classify("You've hit your limit", "seven_day_sonnet") == "model"
    assert classify("You've hit your weekly limit", None) == "weekly"
    assert classify("Something else entirely", None) == "unknown"
