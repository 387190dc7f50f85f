"""Delivery on its own thread: the loop only drops a message into a bounded queue.

A target that is down or hangs costs the loop nothing: each send is bounded by
`timeout` (apprise's connect and read timeouts), a failure is logged (the URL
masked) and retried with a doubling delay, and after `attempts` tries the
message is given up for that target. When the queue is full the message is
dropped with a log line rather than making anyone wait.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
from collections.abc import Callable

from pipeline.log import logger
from pipeline.notify.mask import mask
from pipeline.notify.messages import Message

Send = Callable[[str, Message], bool]
CAPACITY = 100


class Notifier:
    def __init__(self, urls: tuple[str, ...], timeout: float, retry_delay: float,
                 attempts: int = 4, send: Send | None = None) -> None:
        self.urls = urls
        self.retry_delay = retry_delay
        self.attempts = attempts
        self.send = send or AppriseSend(timeout)
        self.pending: queue.Queue[Message | None] = queue.Queue(maxsize=CAPACITY)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._work, name="notifier", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self, wait: float = 1.5) -> None:
        """Give queued messages `wait` seconds to go out, then stop retrying (the
        thread is a daemon thread: a send still hanging does not hold the exit)."""
        with contextlib.suppress(queue.Full):
            self.pending.put_nowait(None)
        self.thread.join(wait)
        self.stopping.set()
        self.thread.join(0.5)

    def offer(self, message: Message) -> bool:
        """Queue a message without blocking; False (and a log line) when the queue is full."""
        try:
            self.pending.put_nowait(message)
        except queue.Full:
            logger.warning("notification queue full; dropped: {}", message.title)
            return False
        return True

    def _work(self) -> None:
        while not self.stopping.is_set():
            message = self.pending.get()
            if message is None:
                return
            for url in self.urls:
                self._deliver(url, message)

    def _deliver(self, url: str, message: Message) -> None:
        delay = self.retry_delay
        for attempt in range(1, self.attempts + 1):
            if self._try(url, message):
                return
            if attempt == self.attempts or self.stopping.wait(delay):
                break
            logger.warning("notification to {} failed (try {}/{}); retrying in {:g} s",
                           mask(url), attempt, self.attempts, delay)
            delay *= 2
        logger.error("notification to {} given up: {}", mask(url), message.title)

    def _try(self, url: str, message: Message) -> bool:
        try:
            return bool(self.send(url, message))
        except Exception as error:  # noqa: BLE001 - a target's failure is never fatal
            logger.warning("notification to {} raised {}", mask(url), type(error).__name__)
            return False


class AppriseSend:
    """One apprise object per URL, built on first use, with its socket timeouts set."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.targets: dict[str, object] = {}

    def __call__(self, url: str, message: Message) -> bool:
        target = self.targets[url] if url in self.targets else self._build(url)
        if target is None:
            return False
        return bool(target.notify(body=message.body, title=message.title))  # type: ignore[attr-defined]

    def _build(self, url: str) -> object | None:
        import apprise  # the optional [notify] extra; checked at start by `available()`

        logging.getLogger("apprise").setLevel(logging.CRITICAL + 1)  # its lines show URLs
        target: object | None = apprise.Apprise()
        joiner = "&" if "?" in url else "?"
        if not target.add(f"{url}{joiner}cto={self.timeout:g}&rto={self.timeout:g}"):
            logger.error("notification URL {} is not understood by apprise", mask(url))
            target = None
        self.targets[url] = target
        return target


def available() -> bool:
    try:
        import apprise  # noqa: F401
    except ImportError:
        return False
    return True
