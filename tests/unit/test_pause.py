"""Pause by hand: --until forms, and a usage limit never shortens a longer pause by hand."""

from datetime import UTC, datetime, timedelta

import pytest

from pipeline.agent.usage_limit import UsageLimit
from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import Attempt
from pipeline.domain.clock import iso
from pipeline.domain.outcome import Outcome
from pipeline.domain.settings import Settings
from pipeline.domain.when import indefinitely, is_indefinite, parse_until
from pipeline.stages.archive import Archive
from pipeline.stages.settle import Settler
from pipeline.storage.events import EventLog
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


def test_until_takes_durations_clock_times_and_iso_times():
    assert parse_until("90m", NOW) == NOW + timedelta(minutes=90)
    clock = parse_until("13:30", NOW)
    assert clock > NOW and clock - NOW < timedelta(days=1) and clock.minute == 30
    assert parse_until("2026-11-29T08:00:00+00:00", NOW) == datetime(2026, 11, 29, 8,
                                                                     tzinfo=UTC)
    for bad in ("yesterday", "2026-01-01T00:00:00+00:00"):
        with pytest.raises(ValueError):
            parse_until(bad, NOW)
    assert is_indefinite(indefinitely(NOW), NOW) and not is_indefinite(NOW, NOW)


def test_a_usage_limit_does_not_shorten_a_pause_by_hand(tmp_path):
    layout = Layout(tmp_path)
    layout.ensure()
    settings = Settings(usage_limit_margin=0)
    queue = TaskQueue(layout, settings)
    events = EventLog(layout.events, lambda: NOW)
    settler = Settler(layout, settings, queue, Archive(layout, settings, events), events)
    queue.state.update(pausedUntil=iso(indefinitely(NOW)), pauseReason="by hand",
                       pausedByHand=True)
    limit = UsageLimit("limit|epoch", NOW + timedelta(hours=1), to_the_minute=False)
    task = Attempt.from_dict({"id": "t", "prompt": "p", "startedAt": iso(NOW), "attempt": 1})
    settler.settle(task, Verdict(Outcome.ERROR, "limit", retryable=True, counts=False,
                                 usage_limit=limit), NOW)
    assert queue.state.read()["pausedByHand"] is True
    assert is_indefinite(queue.state.paused_until(), NOW)
