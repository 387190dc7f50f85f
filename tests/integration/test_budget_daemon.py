"""Spend budgets on the real daemon: a per-task cap ends retries (outcome `budget`),
a rolling-window cap holds new starts until old spend has left the window."""

import json
import sys
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from helpers import drop, record_of, status_json, wait_for, write_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from receiver import Receiver  # noqa: E402

FAKE_COST = 0.0123  # what the fake agent reports for every run


def events(root):
    path = root / "logs" / "events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_a_task_over_its_cap_is_not_retried(root, daemon) -> None:
    daemon.start()
    drop(root, "pricey.json", {"id": "pricey", "prompt": "@fail", "maxRetries": 3,
                               "maxTaskCostUsd": 0.01})
    drop(root, "cheap.json", {"id": "cheap", "prompt": "@fail", "maxRetries": 1})
    pricey = wait_for(lambda: record_of(root, "pricey"), message="pricey archived")
    assert (pricey["outcome"], pricey["attempts"]) == ("budget", 1)
    assert pricey["totalCostUsd"] == FAKE_COST and "maxTaskCostUsd" in pricey["error"]
    cheap = wait_for(lambda: record_of(root, "cheap"), message="cheap archived")
    assert (cheap["outcome"], cheap["attempts"]) == ("error", 2)
    assert cheap["totalCostUsd"] == round(2 * FAKE_COST, 6)  # every attempt counted


def test_a_window_cap_holds_new_starts_until_the_window_passes(root, daemon) -> None:
    pytest.importorskip("apprise")
    with Receiver() as receiver:
        write_settings(root, f"""
[budget]
usd = 0.02
per_hours = 0.001
[notify]
urls = ["{receiver.url('json', '/budget')}"]
events = ["budget_reached", "budget_reset"]
""")  # a 3.6 s window
        daemon.start()
        drop(root, "jobs.json", {"list": [{"id": x, "prompt": "fine"} for x in "abc"]})
        first = wait_for(lambda: record_of(root, "a"), message="a done")
        wait_for(lambda: record_of(root, "b"), message="b done")
        reached = wait_for(lambda: [e for e in events(root) if e["event"] == "budget_reached"],
                           message="the budget_reached event")
        status = status_json(root)
        if record_of(root, "c") is None:  # under heavy load c may already be through
            assert status["budget"]["stop"]["window"] == "0.001h"
            assert status["why"].startswith("0.001h budget reached")
        last = wait_for(lambda: record_of(root, "c"), timeout=20, message="c after the window")
        released = datetime.fromisoformat(first["completedAt"]) + timedelta(hours=0.001)
        assert datetime.fromisoformat(last["startedAt"]) >= released - timedelta(seconds=0.05)
        assert reached[0]["limitUsd"] == 0.02
        wait_for(lambda: any(e["event"] == "budget_reset" for e in events(root)),
                 message="budget_reset")
        told = wait_for(lambda: len(receiver.messages()) >= 2 and receiver.messages(),
                        message="both budget messages")
        titles = [m["title"].split(": ", 1)[1] for m in told]
        assert titles[:2] == [
            "0.001h budget reached ($0.0246 of $0.02)", "budget window passed, runs resume"]
        # on a slow machine b and c may fill a later window again: a new episode, but never
        # the same message twice in a row (one message per stop and per reset)
        assert all(one != two for one, two in zip(titles, titles[1:], strict=False))
