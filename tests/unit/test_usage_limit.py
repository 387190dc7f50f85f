"""Usage-limit parsing with a fixed clock. Strings marked "verbatim" were printed by the
real CLI 2.1.197 against the fake API (tests/fakeapi.py) with an OAuth token."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from pipeline.agent.api_errors import classify_api_error
from pipeline.agent.usage_limit import UsageLimit, detect_usage_limit

NOW = datetime(2026, 11, 25, 15, 6, 42, tzinfo=UTC)
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def result_json(text: str, is_error: bool = True, status: int | None = 429) -> str:
    body = {"type": "result", "subtype": "success", "is_error": is_error, "result": text}
    return json.dumps(body | {"api_error_status": status}, ensure_ascii=False)


# ------------------------------------------------------------------ the forms


def test_epoch_form_in_seconds():
    limit = detect_usage_limit("Claude AI usage limit reached|1795631022", NOW)
    assert limit == UsageLimit(
        "Claude AI usage limit reached|1795631022", datetime.fromtimestamp(1795631022, UTC)
    )


def test_only_stated_clock_times_are_to_the_minute():
    assert not detect_usage_limit("Claude AI usage limit reached|1795631040", NOW).to_the_minute
    assert detect_usage_limit("You've hit your limit · resets 2am (Europe/Paris)",
                              NOW).to_the_minute


def test_epoch_form_in_milliseconds():
    limit = detect_usage_limit("Claude AI usage limit reached|1795631022000", NOW)
    assert limit is not None
    assert limit.resets_at == datetime.fromtimestamp(1795631022, UTC)


def test_epoch_form_inside_json_result():
    limit = detect_usage_limit(result_json("Claude AI usage limit reached|1795631022"), NOW)
    assert limit is not None
    assert limit.message == "Claude AI usage limit reached|1795631022"
    assert limit.resets_at == datetime.fromtimestamp(1795631022, UTC)


def test_five_hour_form_uses_local_zone():
    # 15:06 UTC is 10:06 in New York: 3am is tomorrow's.
    limit = detect_usage_limit("5-hour limit reached ∙ resets 3am", NOW, NEW_YORK)
    assert limit == UsageLimit("5-hour limit reached ∙ resets 3am", utc(2026, 11, 26, 8, 0), True)


def test_hit_your_limit_with_zone():
    limit = detect_usage_limit("You've hit your limit · resets 2am (Europe/Paris)", NOW)
    assert limit is not None
    assert limit.resets_at == datetime(2026, 11, 26, 2, 0, tzinfo=PARIS)


def test_session_limit_verbatim_json():
    out = (
        '{"type":"result","subtype":"success","is_error":true,"api_error_status":429,'
        '"duration_ms":128,"num_turns":1,'
        '"result":"You\'ve hit your session limit · resets 6:23pm (UTC)",'
        '"stop_reason":"stop_sequence","session_id":"2d7beab0","total_cost_usd":0}\n'
    )
    limit = detect_usage_limit(out, NOW)
    assert limit == UsageLimit(
        "You've hit your session limit · resets 6:23pm (UTC)", utc(2026, 11, 25, 18, 23), True
    )


def test_session_limit_in_berlin_verbatim():
    text = "You've hit your session limit · resets 7:23pm (Europe/Berlin)"
    assert detect_usage_limit(text, NOW).resets_at == utc(2026, 11, 25, 18, 23)


def test_weekly_limit_with_date_verbatim():
    text = "You've hit your weekly limit · resets Nov 28, 3:06pm (UTC)"
    assert detect_usage_limit(text, NOW).resets_at == utc(2026, 11, 28, 15, 6)


def test_date_with_zone():
    text = "You've hit your weekly limit · resets Nov 28, 3:37am (Europe/Berlin)"
    assert detect_usage_limit(text, NOW).resets_at == utc(2026, 11, 28, 2, 37)


def test_date_with_year():
    text = "You've hit your weekly limit · resets Jan 2, 2027, 3am (Europe/Berlin)"
    assert detect_usage_limit(text, NOW).resets_at == utc(2027, 1, 2, 2, 0)


def test_date_without_year_is_the_next_occurrence():
    new_year_eve = utc(2026, 12, 30, 12, 0)
    text = "You've hit your weekly limit · resets Jan 2, 3am (UTC)"
    assert detect_usage_limit(text, new_year_eve).resets_at == utc(2027, 1, 2, 3, 0)


def test_weekly_limit_without_reset():
    limit = detect_usage_limit(result_json("You've hit your weekly limit"), NOW)
    assert limit == UsageLimit("You've hit your weekly limit", None)


@pytest.mark.parametrize("model", ["Opus", "Sonnet"])
def test_model_limits_verbatim(model: str):
    text = f"You've hit your {model} limit · resets 6:23pm (UTC)"
    expected = UsageLimit(text, utc(2026, 11, 25, 18, 23), True)
    assert detect_usage_limit(result_json(text), NOW) == expected


def test_old_opus_limit_form():
    limit = detect_usage_limit("Opus limit reached ∙ resets 5pm", NOW, UTC)
    assert limit == UsageLimit("Opus limit reached ∙ resets 5pm", utc(2026, 11, 25, 17, 0), True)


@pytest.mark.parametrize(
    "text",
    [
        "You've hit your monthly spend limit. /model to switch models.",
        "Your org is out of usage · add funds to continue",
        "You're out of usage credits",
    ],
)
def test_spend_limits_have_no_reset(text: str):
    assert detect_usage_limit(text, NOW) == UsageLimit(text, None)


def test_no_reset_at_all():
    assert detect_usage_limit("You've hit your session limit", NOW).resets_at is None


def test_plain_text_line_among_others():
    text = "starting\nError: You've hit your session limit · resets 5:36am (UTC)\n"
    limit = detect_usage_limit(text, NOW)
    assert limit.message == "Error: You've hit your session limit · resets 5:36am (UTC)"
    assert limit.resets_at == utc(2026, 11, 26, 5, 36)


def test_relative_reset():
    limit = detect_usage_limit("You've hit your limit · resets in 2h 30m", NOW)
    assert limit.resets_at == utc(2026, 11, 25, 17, 36, 42)


def test_stream_json_rate_limit_event_gives_the_exact_reset():
    lines = [
        {"type": "system", "subtype": "init", "session_id": "s"},
        {
            "type": "rate_limit_event",
            "rate_limit_info": {
                "status": "rejected",
                "resetsAt": 1795631022,
                "rateLimitType": "five_hour",
                "isUsingOverage": False,
            },
        },
        {
            "type": "result",
            "is_error": True,
            "api_error_status": 429,
            "result": "You've hit your session limit · resets 6:23pm (UTC)",
        },
    ]
    text = "\n".join(json.dumps(line, ensure_ascii=False) for line in lines)
    limit = detect_usage_limit(text, NOW)
    assert limit.message == "You've hit your session limit · resets 6:23pm (UTC)"
    assert limit.resets_at == datetime.fromtimestamp(1795631022, UTC)  # 18:23:42


def test_allowed_rate_limit_event_is_ignored():
    event = {"type": "rate_limit_event", "rate_limit_info": {"status": "allowed_warning"}}
    assert detect_usage_limit(json.dumps(event), NOW) is None


# ------------------------------------------------------------------ not limits


@pytest.mark.parametrize(
    "text",
    [
        "API Error: Server is temporarily limiting requests (not your usage limit) · "
        "Too many requests",
        "API Error: Request rejected (429) · Rate limited",
        "API Error: Request rejected (429) · Number of request tokens has exceeded your "
        "per-minute rate limit",
        "You've used 90% of your session limit · resets 6pm (UTC)",
        "Approaching weekly limit · resets Nov 28, 3pm (UTC)",
        "Claude Opus 4 limit reached, now using Sonnet 4",
        "Context limit reached · /compact or /clear to continue",
        "Subagent nesting limit reached (depth 3 of 3).",
        "API Error: 500 Internal server error.",
        "",
    ],
)
def test_not_a_usage_limit(text: str):
    assert detect_usage_limit(text, NOW) is None
    assert detect_usage_limit(result_json(text), NOW) is None


def test_successful_result_talking_about_limits_is_not_a_limit():
    text = result_json("I handled 'Claude AI usage limit reached|1795631022'.", False, None)
    assert detect_usage_limit(text + "\nYou've hit your session limit", NOW) is None


def test_mention_inside_a_sentence_is_not_a_limit():
    text = "The runner pauses when it sees You've hit your session limit."
    assert detect_usage_limit(text, NOW) is None


# ------------------------------------------------------------------ zones and rolling


def test_reset_in_the_past_rolls_to_the_next_day():
    limit = detect_usage_limit("You've hit your session limit · resets 3am (UTC)", NOW)
    assert limit.resets_at == utc(2026, 11, 26, 3, 0)


def test_reset_a_minute_ago_is_not_tomorrow():
    # The CLI truncates seconds: at 15:06:42 a reset "3:06pm" is now, not tomorrow.
    limit = detect_usage_limit("You've hit your session limit · resets 3:06pm (UTC)", NOW)
    assert limit.resets_at == utc(2026, 11, 25, 15, 6)


def test_zone_in_the_message_beats_local_zone():
    text = "You've hit your limit · resets 2am (Europe/Paris)"
    assert detect_usage_limit(text, NOW, NEW_YORK).resets_at == utc(2026, 11, 26, 1, 0)


def test_unknown_zone_falls_back_to_local_zone():
    text = "You've hit your limit · resets 8pm (Mars/Olympus)"
    assert detect_usage_limit(text, NOW, NEW_YORK).resets_at == utc(2026, 11, 26, 1, 0)


def test_no_zone_uses_the_machine_zone(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("TZ", "Asia/Tokyo")
    time.tzset()
    try:
        limit = detect_usage_limit("5-hour limit reached ∙ resets 3am", NOW)
    finally:
        monkeypatch.undo()
        time.tzset()
    # 15:06 UTC is 00:06 in Tokyo on Nov 26: 3am Tokyo is 18:00 UTC the same day.
    assert limit.resets_at == utc(2026, 11, 25, 18, 0)


def test_resets_at_is_aware_utc():
    limit = detect_usage_limit("You've hit your limit · resets 2am (Europe/Paris)", NOW)
    assert limit.resets_at.tzinfo is UTC


# ------------------------------------------------------------------ error classes


@pytest.mark.parametrize(
    ("status", "text", "expected"),
    [
        (401, "Invalid API key · Fix external API key", "auth"),
        (401, "Failed to authenticate. API Error: 401 OAuth token has expired", "auth"),
        (403, "Failed to authenticate. API Error: 403 Forbidden", "auth"),
        (None, "Not logged in · Please run /login", "auth"),
        (None, "OAuth token revoked · Please run /login", "auth"),
        (500, "API Error: 500 Internal server error. This is a server-side issue", "transient"),
        (529, "API Error: 529 Overloaded. This is a server-side issue", "transient"),
        (None, "API Error: Repeated 529 Overloaded errors. The API is at capacity", "transient"),
        (None, "Request timed out", "transient"),
        (None, "API Error: Unable to connect to API (ECONNRESET)", "transient"),
        (429, "API Error: Request rejected (429) · Rate limited", "transient"),
        (502, "API Error: 502 Bad Gateway", "transient"),
        (400, "API Error: 400 messages: bad", "other"),
        (None, "Credit balance is too low", "other"),
    ],
)
def test_classify_api_error(status: int | None, text: str, expected: str):
    result = {"type": "result", "is_error": True, "api_error_status": status, "result": text}
    assert classify_api_error(result, "") == expected


def test_classify_without_result_reads_the_text():
    assert classify_api_error(None, "Invalid API key · Fix external API key") == "auth"
    assert classify_api_error(None, "Request timed out") == "transient"
    assert classify_api_error(None, "Segmentation fault") == "other"


def test_classify_max_turns_is_other():
    result = {"type": "result", "subtype": "error_max_turns", "is_error": True, "errors": []}
    assert classify_api_error(result, "") == "other"


# ------------------------------------------------------------------ forms reported in issues


def test_claude_usage_limit_reached_will_reset_at():
    text = "Claude usage limit reached. Your limit will reset at 5pm (Europe/Warsaw)."
    assert detect_usage_limit(text, NOW) == UsageLimit(text, utc(2026, 11, 25, 16, 0), True)


def test_hyphen_separator_and_glued_suffix():
    text = (
        "You've hit your limit - resets Feb 7, 11am (Asia/Seoul)/login to switch to an "
        "API usage-billed account."
    )
    assert detect_usage_limit(text, NOW).resets_at == utc(2027, 2, 7, 2, 0)


def test_api_spend_limit_with_iso_reset():
    text = (
        "API Error: 400 You have reached your specified API usage limits. "
        "You will regain access on 2026-12-01 at 00:00 UTC."
    )
    limit = detect_usage_limit(result_json(text, status=400), NOW)
    assert limit == UsageLimit(text, utc(2026, 12, 1, 0, 0))
