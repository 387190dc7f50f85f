"""Notifications: which events speak, once per episode, masked URLs, a sender that
retries with backoff and never blocks its caller."""

import threading

from pipeline.notify.mask import mask
from pipeline.notify.messages import Episodes, Message, compose, kind_of
from pipeline.notify.sender import CAPACITY, Notifier


def test_kinds_of_events() -> None:
    assert kind_of({"event": "task_failed", "outcome": "error"}) == "task_failed"
    assert kind_of({"event": "task_failed", "outcome": "cancelled"}) is None
    assert kind_of({"event": "task_retry"}) is None
    assert kind_of({"event": "level", "to": "full"}) == "queue_full"
    assert kind_of({"event": "level", "to": "busy"}) is None
    assert kind_of({"event": "daemon_start", "previous": "crash"}) == "daemon_crash"
    assert kind_of({"event": "daemon_start", "previous": "clean"}) is None


def test_one_message_per_pause_and_outage() -> None:
    episodes = Episodes()
    said = [k for k in ["pause_end", "pause_start", "pause_start", "queue_full", "pause_end",
                        "pause_end", "queue_full", "queue_recovered", "task_failed",
                        "task_failed"] if episodes.admit(k)]
    assert said == ["pause_start", "queue_full", "pause_end", "queue_recovered",
                    "task_failed", "task_failed"]


def test_messages_name_what_matters() -> None:
    message = compose("pause_start", {"until": "18:00", "pauseClass": "weekly",
                                      "task": "t1", "reason": "weekly limit"}, "root")
    assert message.title == "claude-runner root: paused by a weekly limit until 18:00"
    assert "(seen in task t1)" in message.body
    recovered = compose("queue_recovered", {"length": 5, "waitingRoles": ["ceo-coach"],
                                            "deferredSchedules": ["plan"]}, "r")
    assert "ceo-coach" in recovered.body and "plan" in recovered.body


def test_masking_hides_everything_but_the_scheme() -> None:
    url = "slack://TokenA/TokenB/TokenC"
    assert mask(url).startswith("slack://…") and "Token" not in mask(url)
    assert mask(url) == mask(url) != mask("slack://other")


class FakeTarget:
    def __init__(self, failures: int = 0, block: threading.Event | None = None) -> None:
        self.failures = failures
        self.calls: list[tuple[str, str]] = []
        self.block = block
        self.done = threading.Event()

    def __call__(self, url: str, message: Message) -> bool:
        if self.block:
            self.block.wait(5)
        self.calls.append((url, message.title))
        ok = len(self.calls) > self.failures
        if ok:
            self.done.set()
        return ok


def test_a_failing_target_is_retried_then_delivered() -> None:
    target = FakeTarget(failures=2)
    notifier = Notifier(("json://a",), timeout=1, retry_delay=0.01, send=target)
    notifier.start()
    notifier.offer(Message("task_failed", "t", "b"))
    assert target.done.wait(5)
    notifier.stop()
    assert [c[1] for c in target.calls] == ["t", "t", "t"]


def test_a_dead_target_is_given_up_after_its_attempts() -> None:
    target = FakeTarget(failures=99)
    notifier = Notifier(("json://a", "json://b"), timeout=1, retry_delay=0.001, attempts=3,
                        send=target)
    notifier.start()
    notifier.offer(Message("k", "t", "b"))
    notifier.stop(wait=5)
    assert [c[0] for c in target.calls] == ["json://a"] * 3 + ["json://b"] * 3


def test_offer_never_blocks_and_drops_when_full() -> None:
    gate = threading.Event()
    target = FakeTarget(block=gate)
    notifier = Notifier(("json://a",), timeout=1, retry_delay=0.01, send=target)
    notifier.start()
    accepted = [notifier.offer(Message("k", str(n), "b")) for n in range(CAPACITY + 5)]
    assert accepted.count(False) >= 4  # the queue is bounded; the caller went on
    gate.set()
    notifier.stop(wait=5)


def test_an_episode_open_before_a_restart_still_ends_with_one_message() -> None:
    episodes = Episodes.from_state({"pausedUntil": "2026-11-28T18:00:00+00:00", "gate": "full"})
    assert not episodes.admit("pause_start") and not episodes.admit("queue_full")
    assert episodes.admit("pause_end") and episodes.admit("queue_recovered")
    assert not Episodes.from_state({}).admit("pause_end")


def test_notify_settings_are_checked(tmp_path) -> None:
    import pytest

    from pipeline.domain.settings import SettingsError
    from pipeline.domain.settings_load import load_settings

    (tmp_path / "runner.toml").write_text('[notify]\nevents = ["task_failed", "oops"]\n')
    with pytest.raises(SettingsError, match="notify.events: unknown oops"):
        load_settings(tmp_path, environ={})
    (tmp_path / "runner.toml").write_text('[notify]\nheartbeat_url = "hc-ping.com/x"\n')
    with pytest.raises(SettingsError, match="heartbeat_url"):
        load_settings(tmp_path, environ={})
    (tmp_path / "runner.toml").write_text(
        '[notify]\nurls = ["json://h/p"]\nheartbeat_every = 30\n[budget]\ndaily_usd = 5\n')
    settings = load_settings(tmp_path, environ={})
    assert (settings.notify_urls, settings.heartbeat_every, settings.daily_usd) == \
        (("json://h/p",), 30.0, 5.0)
