import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.domain.gate import Level, level, still_full


@pytest.mark.parametrize(("length", "was_full", "expected"), [
    (0, False, Level.OK), (5, False, Level.OK), (6, False, Level.BUSY), (10, False, Level.BUSY),
    (11, False, Level.FULL), (10, True, Level.FULL), (6, True, Level.FULL), (5, True, Level.OK),
    (0, True, Level.OK),
])
def test_levels_with_hysteresis(length, was_full, expected):
    assert level(length, was_full, high=10, low=5) is expected


def test_a_draining_queue_stays_full_until_the_low_watermark():
    full = False
    seen = []
    for length in [3, 8, 11, 12, 9, 7, 6, 5, 8]:
        full = still_full(length, full, 10, 5)
        seen.append(level(length, full, 10, 5))
    assert seen == ["ok", "busy", "full", "full", "full", "full", "full", "ok", "busy"]


@given(st.lists(st.integers(min_value=0, max_value=30), max_size=40))
def test_full_exactly_when_above_high_or_not_yet_back_to_low(lengths):
    full = False
    for length in lengths:
        was = full
        full = still_full(length, full, 10, 5)
        if length > 10:
            assert full
        elif length <= 5:
            assert not full
        else:
            assert full == was
