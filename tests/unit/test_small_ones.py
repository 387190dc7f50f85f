"""Issue 11's small ones that are pure: IS_SANDBOX forms, -t units, level hooks."""

from datetime import UTC, datetime

import pytest

from pipeline.agent.preflight import is_sandbox
from pipeline.cli.add_input import AddInputError, timeout_ms
from pipeline.storage import events
from pipeline.storage.layout import Layout

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("value", "sandboxed"), [
    ("1", True), ("yes", True), ("true", True), ("TRUE", True), (" Yes ", True),
    ("0", False), ("no", False), ("", False)])
def test_is_sandbox_accepts_what_claude_code_accepts(value, sandboxed):
    assert is_sandbox({"IS_SANDBOX": value}) is sandboxed
    assert is_sandbox({}) is False


def test_timeouts_take_units_and_refuse_tiny_bare_numbers():
    assert [timeout_ms(t) for t in ("600000", "600s", "10m", "1h", "1.5h", "1000")] == [
        600_000, 600_000, 600_000, 3_600_000, 5_400_000, 1000]
    assert timeout_ms(None) is None
    for bad in ("600", "0", "10 minutes", "-5m", "0s"):
        with pytest.raises(AddInputError):
            timeout_ms(bad)


def test_level_hook_fires_on_changes_only(tmp_path, monkeypatch):
    layout = Layout(tmp_path)
    layout.ensure()
    fired = []
    monkeypatch.setattr(events, "run_hook", lambda argv, timeout: fired.append(argv))
    log = events.EventLog(layout.events, lambda: NOW, {"on_level_change": ("notify", "{level}")},
                          5)
    log.emit(events.EventKind.LEVEL, length=0, **{"from": None, "to": "ok"})  # at start
    log.emit(events.EventKind.LEVEL, length=11, **{"from": "ok", "to": "full"})
    log.emit(events.EventKind.LEVEL, length=11, **{"from": "full", "to": "full"})
    assert fired == [["notify", "full"]]
    assert len(layout.events.read_text().splitlines()) == 3  # still in the events log
