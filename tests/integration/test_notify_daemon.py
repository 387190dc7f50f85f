"""Notifications through apprise to a local receiver, and the heartbeat ping."""

import os
import signal
import sys
import time
from pathlib import Path

import pytest
from helpers import (
    DaemonProcess,
    cli,
    drop,
    record_of,
    state,
    wait_for,
    write_settings,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "support"))
from receiver import Receiver  # noqa: E402

pytest.importorskip("apprise")
SECRET = "tok3n-S3CRET-9f"


def kinds(receiver: Receiver) -> list[str]:
    return [m["title"].split(": ", 1)[1] for m in receiver.messages()]


def test_a_final_failure_notifies_once_and_the_secret_stays_hidden(root, daemon) -> None:
    with Receiver(fail_first=1) as receiver:  # the first delivery fails: retried
        write_settings(root, f"""
[runner]
max_retries = 2
[notify]
urls = ["{receiver.url('json', '/hook/' + SECRET)}"]
events = ["task_failed"]
retry_delay = 0.1
""")
        daemon.start()
        drop(root, "bad.json", {"id": "bad", "prompt": "@fail", "role": "coach"})
        wait_for(lambda: record_of(root, "bad"), message="the task failed for good")
        wait_for(lambda: receiver.messages(), message="a delivered notification")
        drop(root, "good.json", {"id": "good", "prompt": "fine"})
        wait_for(lambda: record_of(root, "good"), message="a later task done")
        assert kinds(receiver) == ["task bad (coach) failed"]  # three attempts, one message
        assert len(receiver.requests) == 2  # the failed try, then the retry
        status = cli(root, "status", "--json").stdout
        daemon.stop()
        seen = [daemon.output(), status, (root / "logs" / "events.jsonl").read_text()]
        seen += [p.read_text() for p in (root / "logs").glob("*.log")]
        assert any("json://…" in text for text in seen)  # the retry was logged, masked
        assert not any(SECRET in text for text in seen)


def limit_text(reset: int) -> str:
    return f"Claude AI usage limit reached|{reset}"


def test_a_pause_notifies_once_at_start_and_once_at_the_end(root, daemon, tmp_path) -> None:
    with Receiver() as receiver:
        write_settings(root, f"""
[runner]
usage_limit_margin = 0
[notify]
urls = ["{receiver.url('json', '/ntfy')}"]
events = ["pause_start", "pause_end", "task_failed"]
""")
        daemon.start()
        reset = int(time.time()) + 3
        once = tmp_path / "limit.once"
        drop(root, "jobs.json", {"list": [
            {"id": "limited", "prompt": f"@usage-limit-once {once} {limit_text(reset)}"},
            *({"id": f"behind{n}", "prompt": "fine"} for n in range(4))]})
        wait_for(lambda: state(root).get("pausedUntil"), message="the pause")
        why = cli(root, "status", "--why").stdout.strip()
        if state(root).get("pausedUntil"):  # still paused after the call (3 s window)
            assert why.startswith("why: paused ") and \
                "(seen in task limited)" in why, why
        for n in range(4):
            wait_for(lambda n=n: record_of(root, f"behind{n}"), timeout=20,
                     message="the waiting tasks done after the reset")
        wait_for(lambda: len(receiver.messages()) >= 2, message="the pause_end message")
        titles = kinds(receiver)
        assert len(titles) == 2, titles
        assert titles[0].startswith("paused by a ") and "(seen in task limited)" in \
            receiver.messages()[0]["message"]
        assert titles[1] == "pause over, runs resume"


def test_a_hanging_target_does_not_hold_the_loop(root, daemon) -> None:
    with Receiver(hang=True) as receiver:
        write_settings(root, f"""
[runner]
max_retries = 0
[notify]
urls = ["{receiver.url('json', '/slow')}"]
timeout = 30
""")
        daemon.start()
        drop(root, "bad.json", {"id": "bad", "prompt": "@fail"})
        wait_for(lambda: receiver.requests, message="the notification held by the receiver")
        for n in range(3):  # the receiver still holds the first request unanswered
            drop(root, f"t{n}.json", {"id": f"t{n}", "prompt": "fine"})
            wait_for(lambda n=n: record_of(root, f"t{n}"), message="work goes on")
        assert len(receiver.requests) == 1 and not receiver.release.is_set()


def test_heartbeat_pings_and_a_fail_ping_after_kill_9(root) -> None:
    with Receiver() as receiver:
        write_settings(root, f"""
[notify]
heartbeat_url = "{receiver.url('http', '/ping/' + SECRET)}"
heartbeat_every = 0.2
urls = ["{receiver.url('json', '/crash')}"]
events = ["daemon_crash"]
""")
        first = DaemonProcess(root).start()
        try:
            wait_for(lambda: len(receiver.paths()) >= 3, message="regular pings")
            assert set(receiver.paths()) == {f"/ping/{SECRET}"}
            os.kill(first.process.pid, signal.SIGKILL)
            first.wait()
        finally:
            first.stop()
        second = DaemonProcess(root).start()
        try:
            wait_for(lambda: f"/ping/{SECRET}/fail" in receiver.paths(), message="/fail")
            pings = receiver.paths()
            after = pings[pings.index(f"/ping/{SECRET}/fail") + 1:]
            wait_for(lambda: len(receiver.paths()) > len(pings), message="pings resume")
            assert all(p == f"/ping/{SECRET}" for p in after)
            told = wait_for(lambda: receiver.messages(), message="the crash notification")
            assert [m["title"].split(": ", 1)[1] for m in told] == \
                ["daemon restarted after a crash"]
        finally:
            second.stop()
        assert SECRET not in second.output()
