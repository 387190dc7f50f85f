"""Uptime from heartbeats, the heartbeat loader, and restart counting."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from pipeline.domain.clock import iso
from pipeline.report.uptime import Gap, load_heartbeats, max_gap_for, restarts, uptime
from pipeline.storage.layout import Layout

TZ = timezone(timedelta(hours=2))
START = datetime(2026, 3, 10, 12, 0, tzinfo=TZ)
END = START + timedelta(hours=1)


def beats(first: datetime, last: datetime, step: float = 10) -> list[datetime]:
    out, moment = [], first
    while moment <= last:
        out.append(moment)
        moment += timedelta(seconds=step)
    return out


def s(seconds: float) -> timedelta:
    return timedelta(seconds=seconds)


def test_max_gap_is_three_polls_but_at_least_thirty_seconds() -> None:
    assert max_gap_for(10) == 30
    assert max_gap_for(5) == 30
    assert max_gap_for(20) == 60


def test_steady_heartbeats_are_full_uptime() -> None:
    result = uptime(beats(START + s(5), END - s(5)), START, END, 30)
    assert (result.up, result.down, result.percent, result.gaps) == (3600, 0, 100, [])


def test_a_gap_in_the_middle_is_downtime_whole() -> None:
    series = [b for b in beats(START, END) if not START + s(600) < b < START + s(700)]
    result = uptime(series, START, END, 30)
    assert result.down == 100
    assert result.up == 3500
    assert result.percent == pytest.approx(100 * 3500 / 3600)
    assert result.gaps == [Gap(START + s(600), START + s(700))]
    assert result.gaps[0].seconds == 100


def test_gap_must_exceed_max_gap() -> None:
    exact = [START, START + s(30), START + s(60)]
    assert uptime([*beats(START, START + s(10)), *beats(START + s(40), END)],
                  START, END, 30).down == 0
    assert uptime(exact, START, START + s(60), 30).down == 0
    over = [*beats(START, START + s(10)), *beats(START + s(41), END)]
    assert uptime(over, START, END, 30).down == 31


def test_no_heartbeats_means_down_all_window() -> None:
    result = uptime([], START, END, 30)
    assert (result.up, result.down, result.percent) == (0, 3600, 0)
    assert result.gaps == [Gap(START, END)]


def test_window_edges_stand_in_for_missing_neighbours() -> None:
    series = beats(START + s(40), END - s(40))
    result = uptime(series, START, END, 30)
    assert result.down == 80
    assert result.gaps == [Gap(START, START + s(40)), Gap(END - s(40), END)]


def test_neighbours_outside_the_window_measure_edge_gaps_whole() -> None:
    inside = beats(START + s(25), END - s(15))
    assert uptime(inside, START, END, 30).down == 0
    with_neighbours = [START - s(20), *inside, END + s(50)]
    result = uptime(with_neighbours, START, END, 30)
    assert result.gaps == [Gap(START, START + s(25)), Gap(END - s(15), END)]
    assert result.down == 40


def test_far_away_beats_do_not_count_as_up() -> None:
    result = uptime([START - s(3600), END + s(3600)], START, END, 30)
    assert result.down == 3600


def test_unsorted_input_and_empty_window() -> None:
    series = list(reversed(beats(START, END)))
    assert uptime(series, START, END, 30).down == 0
    empty = uptime(series, START, START, 30)
    assert (empty.up, empty.down, empty.percent) == (0, 0, None)


def test_to_dict_rounds_and_formats() -> None:
    result = uptime([START, START + s(100)], START, START + s(100), 30)
    assert result.to_dict(TZ) == {
        "upSeconds": 0.0, "downSeconds": 100.0, "percent": 0.0,
        "gaps": [{"start": "2026-03-10T12:00:00.000+02:00",
                  "end": "2026-03-10T12:01:40.000+02:00", "seconds": 100.0}],
    }


def write_beats(layout: Layout, day: str, lines: list[str]) -> None:
    layout.heartbeats.mkdir(parents=True, exist_ok=True)
    (layout.heartbeats / f"{day}.txt").write_text("\n".join(lines) + "\n")


def test_load_heartbeats_reads_day_files_across_midnight(tmp_path) -> None:
    layout = Layout(tmp_path)
    midnight = datetime(2026, 3, 10, tzinfo=TZ)
    write_beats(layout, "2026-03-09", [iso(midnight - s(40)), iso(midnight - s(20)),
                                       iso(midnight - s(10)), "garbage", ""])
    write_beats(layout, "2026-03-10", [iso(midnight + s(5)), "2026-03-10T00:00:1",
                                       iso(midnight + s(15)) + " queue=3", iso(midnight + s(90))])
    start, end = midnight - s(15), midnight + s(60)
    assert load_heartbeats(layout, start, end, tz=TZ) == [
        midnight - s(10), midnight + s(5), midnight + s(15)]
    padded = load_heartbeats(layout, start, end, pad=s(3600), tz=TZ)
    assert padded == [midnight - s(20), midnight - s(10), midnight + s(5),
                      midnight + s(15), midnight + s(90)]


def test_load_heartbeats_without_files(tmp_path) -> None:
    assert load_heartbeats(Layout(tmp_path), START, END, pad=s(60), tz=TZ) == []


def test_restarts_counts_daemon_starts_by_cause() -> None:
    events = [
        {"at": iso(START - s(1)), "event": "daemon_start", "previous": "crash"},
        {"at": iso(START), "event": "daemon_start", "previous": "crash"},
        {"at": iso(START + s(60)), "event": "daemon_stop", "reason": "SIGTERM"},
        {"at": iso(START + s(65)), "event": "daemon_start", "previous": "clean"},
        {"at": iso(START + s(70)), "event": "daemon_start", "previous": "clean"},
        {"at": iso(START + s(80)), "event": "daemon_start"},
        {"at": "not a time", "event": "daemon_start", "previous": "crash"},
        {"at": iso(END), "event": "daemon_start", "previous": "crash"},
    ]
    assert restarts(events, START, END) == {"clean": 2, "crash": 1, "unknown": 1}
    assert restarts([], START, END) == {"clean": 0, "crash": 0}


def test_daylight_saving_windows_are_measured_in_real_seconds() -> None:
    zone = ZoneInfo("America/New_York")
    start, end = datetime(2026, 3, 8, tzinfo=zone), datetime(2026, 3, 9, tzinfo=zone)
    result = uptime([], start, end, 30)
    assert result.down == 23 * 3600
    assert result.gaps[0].seconds == 23 * 3600
