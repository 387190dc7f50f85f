"""pipeline.scheduling.cron: parsing, next slots, time zones and both DST transitions."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.scheduling.cron import CronError, next_after, next_n, normalize, zone_for

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")  # a 30-minute DST shift
# (zone, spring-forward day, fall-back day, first wall time of the repeated hour)
TRANSITIONS = [
    (BERLIN, datetime(2026, 3, 29), datetime(2026, 10, 25), (2, 30)),
    (NEW_YORK, datetime(2026, 3, 8), datetime(2026, 11, 1), (1, 30)),
]


def at(zone, *fields, fold=0):
    return datetime(*fields, tzinfo=zone, fold=fold)


def iso(moments):
    return [m.isoformat() for m in moments]


def day_slots(expr, zone, day):
    """All slots whose local date is `day`."""
    start = datetime(day.year, day.month, day.day, tzinfo=zone) - timedelta(seconds=1)
    slots = []
    moment = start
    while True:
        moment = next_after(expr, zone, moment)
        if moment.date() != day.date():
            return slots
        slots.append(moment)


def gaps(slots):
    utc = [s.astimezone(UTC) for s in slots]
    return {b - a for a, b in zip(utc, utc[1:], strict=False)}


# --- normalize ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expr", "expected"),
    [
        ("0 * * * *", "0 * * * *"),
        ("  0   9 * *   MON-FRI ", "0 9 * * mon-fri"),
        ("*/30 * * * * *", "* * * * * */30"),  # seconds first -> croniter's seconds last
        ("15 0 12 * * *", "0 12 * * * 15"),
        ("@hourly", "0 * * * *"),
        ("@daily", "0 0 * * *"),
        ("@midnight", "0 0 * * *"),
        ("@weekly", "0 0 * * 0"),
        ("@monthly", "0 0 1 * *"),
        ("@yearly", "0 0 1 1 *"),
        ("@DAILY", "0 0 * * *"),
        ("0 0 1 jan,jul *", "0 0 1 jan,jul *"),
        ("5,35 8-18/2 * * 1-5", "5,35 8-18/2 * * 1-5"),
        ("0 12 * * 7", "0 12 * * 7"),
        ("0 0 l * *", "0 0 l * *"),
        ("0 0 * * fri#2", "0 0 * * fri#2"),
        ("10/15 * * * *", "10/15 * * * *"),
    ],
)
def test_normalize_accepts(expr, expected):
    assert normalize(expr) == expected


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("*/0 * * * *", "step 0"),
        ("0 */0 * * *", "hour field"),
        ("61 * * * *", "61 is out of range 0-59"),
        ("0 24 * * *", "hour field: 24"),
        ("0 0 0 * *", "day-of-month field: 0"),
        ("0 0 * 13 *", "month field: 13"),
        ("0 0 * * 8", "day-of-week field: 8"),
        ("* * * *", "has 4 fields"),
        ("* * * * * * *", "has 7 fields"),
        ("", "empty"),
        ("   ", "empty"),
        ("every hour", "has 2 fields"),
        ("a b c d e", "'a' is not a number"),
        ("0 0 * * funday", "'funday'"),
        ("0 0 * foo *", "month field"),
        ("*/x * * * *", "step 'x'"),
        ("1,,2 * * * *", "empty list entry"),
        ("1-/2 * * * *", "not a number, name, range or step"),
        ("H * * * *", "'h'"),
        ("R * * * *", "'r'"),
        ("@reboot", "unknown cron alias"),
        ("0 0 31 2 *", "never occur"),
        ("*/0 * * * * *", "second field"),
    ],
)
def test_normalize_rejects_with_a_reason(expr, reason):
    with pytest.raises(CronError) as caught:
        normalize(expr)
    assert reason in str(caught.value)


def test_cron_error_is_a_value_error():
    assert issubclass(CronError, ValueError)
    with pytest.raises(ValueError):
        normalize(None)  # type: ignore[arg-type]


# --- next_after / next_n -----------------------------------------------------------------


def test_hourly():
    after = at(UTC, 2026, 5, 4, 10, 0)
    assert iso(next_n("0 * * * *", UTC, after, 3)) == [
        "2026-05-04T11:00:00+00:00",
        "2026-05-04T12:00:00+00:00",
        "2026-05-04T13:00:00+00:00",
    ]


def test_strictly_after_a_slot():
    assert next_after("0 * * * *", UTC, at(UTC, 2026, 5, 4, 10, 0)) == at(UTC, 2026, 5, 4, 11, 0)
    just_before = at(UTC, 2026, 5, 4, 10, 59, 59) + timedelta(microseconds=999_999)
    assert next_after("0 * * * *", UTC, just_before) == at(UTC, 2026, 5, 4, 11, 0)


def test_six_fields_seconds_first():
    after = at(BERLIN, 2026, 5, 4, 10, 0, 10)
    assert iso(next_n("*/30 * * * * *", BERLIN, after, 3)) == [
        "2026-05-04T10:00:30+02:00",
        "2026-05-04T10:01:00+02:00",
        "2026-05-04T10:01:30+02:00",
    ]
    assert next_after("15 0 12 * * *", UTC, at(UTC, 2026, 5, 4)) == at(UTC, 2026, 5, 4, 12, 0, 15)


def test_six_fields_with_a_fractional_start():
    after = at(UTC, 2026, 5, 4, 10, 0, 30) + timedelta(microseconds=500)
    assert next_after("* * * * * *", UTC, after) == at(UTC, 2026, 5, 4, 10, 0, 31)


def test_weekday_names_in_berlin():
    friday = at(BERLIN, 2026, 3, 6, 10, 0)
    assert iso(next_n("0 9 * * mon-fri", BERLIN, friday, 3)) == [
        "2026-03-09T09:00:00+01:00",
        "2026-03-10T09:00:00+01:00",
        "2026-03-11T09:00:00+01:00",
    ]


def test_month_names_and_lists():
    after = at(UTC, 2026, 2, 1)
    assert iso(next_n("0 0 1 jan,jul *", UTC, after, 2)) == [
        "2026-07-01T00:00:00+00:00",
        "2027-01-01T00:00:00+00:00",
    ]


def test_ranges_and_steps():
    after = at(UTC, 2026, 5, 4, 0, 0)
    hours = [m.hour for m in next_n("0 8-18/4 * * *", UTC, after, 4)]
    assert hours == [8, 12, 16, 8]


@pytest.mark.parametrize(
    ("alias", "expected"),
    [
        ("@hourly", "2026-05-04T11:00:00+00:00"),
        ("@daily", "2026-05-05T00:00:00+00:00"),
        ("@weekly", "2026-05-10T00:00:00+00:00"),  # Sunday
        ("@monthly", "2026-06-01T00:00:00+00:00"),
        ("@yearly", "2027-01-01T00:00:00+00:00"),
    ],
)
def test_aliases(alias, expected):
    assert next_after(alias, UTC, at(UTC, 2026, 5, 4, 10, 30)).isoformat() == expected


def test_day_of_month_or_day_of_week():
    """Both restricted: the 13th OR a Friday, as in standard cron (not AND)."""
    slots = next_n("0 0 13 * fri", UTC, at(UTC, 2026, 3, 1), 6)
    assert [s.day for s in slots] == [6, 13, 20, 27, 3, 10]
    assert all(s.weekday() == 4 or s.day == 13 for s in slots)
    assert at(UTC, 2026, 3, 13).weekday() == 4  # Friday the 13th fires once, not twice


def test_day_of_month_alone_is_not_or_with_a_star_weekday():
    slots = next_n("0 0 13 * *", UTC, at(UTC, 2026, 3, 1), 2)
    assert [(s.month, s.day) for s in slots] == [(3, 13), (4, 13)]


def test_result_is_in_the_schedule_zone_whatever_the_input_zone():
    after = at(UTC, 2026, 1, 15, 12, 0)  # 13:00 in Berlin, 07:00 in New York
    berlin = next_after("0 9 * * *", BERLIN, after)
    new_york = next_after("0 9 * * *", NEW_YORK, after)
    assert berlin.isoformat() == "2026-01-16T09:00:00+01:00"
    assert new_york.isoformat() == "2026-01-15T09:00:00-05:00"
    assert berlin.tzinfo is BERLIN and new_york.tzinfo is NEW_YORK


def test_naive_after_is_refused():
    with pytest.raises(ValueError):
        next_after("0 * * * *", UTC, datetime(2026, 1, 1))


def test_next_n_zero():
    assert next_n("0 * * * *", UTC, at(UTC, 2026, 1, 1), 0) == []


# --- zones -------------------------------------------------------------------------------


def test_zone_for_iana_name():
    assert zone_for("Europe/Berlin") == BERLIN
    assert zone_for("UTC") == ZoneInfo("UTC")


@pytest.mark.parametrize("name", [None, ""])
def test_zone_for_default_is_the_machine_zone(monkeypatch, name):
    monkeypatch.setenv("TZ", "America/New_York")
    assert zone_for(name) == NEW_YORK


def test_zone_for_default_without_tz_has_dst_rules(monkeypatch):
    monkeypatch.delenv("TZ", raising=False)
    zone = zone_for(None)
    assert at(zone, 2026, 1, 1).utcoffset() is not None


@pytest.mark.parametrize("name", ["Mars/Olympus", "Europe/Berln", "../../etc/passwd", 5])
def test_zone_for_unknown(name):
    with pytest.raises(CronError, match="timezone"):
        zone_for(name)


# --- daylight saving time ----------------------------------------------------------------


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_spring_forward_daily_job_in_the_gap_runs_once_at_the_gap_end(zone, spring, fall, repeated):
    slots = day_slots("30 2 * * *", zone, spring)
    assert [s.strftime("%H:%M") for s in slots] == ["03:00"]
    following = next_after("30 2 * * *", zone, slots[0])
    assert (following.day - spring.day, following.hour, following.minute) == (1, 2, 30)


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_spring_forward_gap_end_and_a_real_slot_are_one_firing(zone, spring, fall, repeated):
    assert [s.strftime("%H:%M") for s in day_slots("0 2,3 * * *", zone, spring)] == ["03:00"]


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_spring_forward_hourly_job_keeps_real_hours(zone, spring, fall, repeated):
    slots = day_slots("0 * * * *", zone, spring)
    assert len(slots) == 23
    assert gaps(slots) == {timedelta(hours=1)}
    assert 2 not in [s.hour for s in slots]


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_fall_back_hourly_job_is_neither_doubled_nor_skipped(zone, spring, fall, repeated):
    slots = day_slots("0 * * * *", zone, fall)
    assert len(slots) == 25
    assert gaps(slots) == {timedelta(hours=1)}
    assert len({s.astimezone(UTC) for s in slots}) == 25


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_fall_back_fixed_time_in_the_repeated_hour_fires_once(zone, spring, fall, repeated):
    hour, minute = repeated
    slots = day_slots(f"{minute} {hour} * * *", zone, fall)
    assert len(slots) == 1
    assert (slots[0].hour, slots[0].minute, slots[0].fold) == (hour, minute, 0)


@pytest.mark.parametrize(("zone", "spring", "fall", "repeated"), TRANSITIONS)
def test_fall_back_starting_in_the_second_pass(zone, spring, fall, repeated):
    hour, minute = repeated
    second_pass = at(zone, fall.year, fall.month, fall.day, hour, 0, fold=1)
    assert second_pass.utcoffset() != second_pass.replace(fold=0).utcoffset()
    fixed = next_after(f"{minute} {hour} * * *", zone, second_pass)
    assert (fixed.day, fixed.hour, fixed.minute) == (fall.day + 1, hour, minute)
    every = next_after(f"{minute} * * * *", zone, second_pass)
    assert (every.day, every.hour, every.minute, every.fold) == (fall.day, hour, minute, 1)


def test_new_york_fall_back_01_30_fires_at_the_first_pass():
    slot = next_after("30 1 * * *", NEW_YORK, at(NEW_YORK, 2026, 10, 31, 12))
    assert slot.isoformat() == "2026-11-01T01:30:00-04:00"
    assert next_after("30 1 * * *", NEW_YORK, slot).isoformat() == "2026-11-02T01:30:00-05:00"


def test_every_twenty_minutes_through_the_repeated_hour():
    slots = next_n("*/20 * * * *", NEW_YORK, at(NEW_YORK, 2026, 11, 1, 0, 50), 7)
    assert gaps(slots) == {timedelta(minutes=20)}
    assert [s.utcoffset() for s in slots].count(timedelta(hours=-4)) == 3


def test_seconds_through_the_gap():
    before = at(BERLIN, 2026, 3, 29, 1, 59, 50)
    slots = next_n("*/30 * * * * *", BERLIN, before, 2)
    assert iso(slots) == ["2026-03-29T03:00:00+02:00", "2026-03-29T03:00:30+02:00"]


def test_lord_howe_half_hour_shift():
    slots = day_slots("0 * * * *", LORD_HOWE, datetime(2026, 4, 5))
    # the wall clock goes back from 02:00 to 01:30: the gap between 01:00 and 02:00 is 90 min
    assert len(slots) == 24
    assert gaps(slots) == {timedelta(hours=1), timedelta(minutes=90)}


# --- properties --------------------------------------------------------------------------

ZONES = [UTC, BERLIN, NEW_YORK, LORD_HOWE, ZoneInfo("Asia/Kolkata")]
MINUTES = ["*", "0", "30", "*/15", "5,35", "0-10/5", "59"]
HOURS = ["*", "1", "2", "3", "1-3", "*/2", "2,3", "0", "23"]
DAYS_OF_WEEK = ["*", "*", "mon-fri", "sun", "6"]
around = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
near_transition = st.sampled_from(
    [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
        datetime(2026, 3, 8, 7, tzinfo=UTC),
        datetime(2026, 11, 1, 6, tzinfo=UTC),
        datetime(2026, 4, 4, 15, tzinfo=UTC),
        datetime(2026, 10, 3, 15, 30, tzinfo=UTC),
    ]
)
expressions = st.builds(
    lambda m, h, dow: f"{m} {h} * * {dow}",
    st.sampled_from(MINUTES),
    st.sampled_from(HOURS),
    st.sampled_from(DAYS_OF_WEEK),
)


@settings(max_examples=150, deadline=None)
@given(expressions, st.sampled_from(ZONES), around)
def test_next_after_is_later_and_stepping_is_monotonic(expr, zone, after):
    slots = next_n(expr, zone, after, 5)
    instants = [after] + [s.astimezone(UTC) for s in slots]
    assert all(a < b for a, b in zip(instants, instants[1:], strict=False))
    assert all(s.tzinfo is zone for s in slots)


@settings(max_examples=60, deadline=None)
@given(
    expressions,
    st.sampled_from([BERLIN, NEW_YORK, LORD_HOWE]),
    near_transition,
    st.integers(min_value=-26 * 3600, max_value=26 * 3600),
)
def test_next_after_matches_a_minute_by_minute_reference(expr, zone, transition, shift):
    after = transition + timedelta(seconds=shift)
    assert next_after(expr, zone, after).astimezone(UTC) == reference_next(expr, zone, after)


def reference_next(expr, zone, after):
    """Walk real time minute by minute and apply the documented DST rules literally."""
    expanded, _ = croniter.expand(normalize(expr))
    fixed_hours = expanded[1] != ["*"]
    moment = after.replace(second=0, microsecond=0)
    for _ in range(8 * 24 * 60):
        moment += timedelta(minutes=1)
        if fires(expanded, fixed_hours, zone, moment):
            return moment
    raise AssertionError("no reference slot within eight days")


def fires(expanded, fixed_hours, zone, moment):
    local = moment.astimezone(zone)
    if not fixed_hours:
        return wall_matches(expanded, local)
    repeat = local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset()
    if wall_matches(expanded, local) and not repeat:
        return True
    jump = local.utcoffset() - (moment - timedelta(minutes=1)).astimezone(zone).utcoffset()
    if jump <= timedelta(0):
        return False
    skipped = local.replace(tzinfo=None) - jump
    minutes = range(int(jump / timedelta(minutes=1)))
    return any(wall_matches(expanded, skipped + timedelta(minutes=i)) for i in minutes)


def wall_matches(expanded, wall):
    minute, hour, _, _, dow = expanded[:5]
    return (
        (minute == ["*"] or wall.minute in minute)
        and (hour == ["*"] or wall.hour in hour)
        and (dow == ["*"] or wall.isoweekday() % 7 in dow)
    )
