#!/usr/bin/env python3
"""The dashboard's latency with a long history, and how fast a file change reaches a page.

    .venv/bin/python bench/web.py [--records 100000] [--days 100] [--rounds 30] [--drops 30]

Makes a root with `--records` history records spread over `--days` day files (plus full
completed.json / failed.json), starts the real `claude-runner web` on it, and times HTTP
GETs of every view and API (median and p95 over `--rounds`). Baseline, measured in the same
run: the schedules page with no schedules (the same server, templates and security layer with
nothing to read: the floor of any page); figures are also given as ratios to it. Then: the
time from an inbox file's rename (and a queue.json write by `add`) to the server-sent event
that tells the page, over `--drops` changes.
"""

from __future__ import annotations

import argparse
import http.client
import math
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

REPO = Path(__file__).resolve().parents[1]


def make_history(root: Path, records: int, days: int) -> str:
    """Day files of records; returns the id of the oldest (the worst case to look up)."""
    folder = root / "tasks" / "history"
    folder.mkdir(parents=True)
    per_day, start = records // days, datetime(2026, 1, 1, tzinfo=UTC)
    oldest = ""
    for day in range(days):
        moment = start + timedelta(days=day)
        lines = []
        for n in range(per_day):
            ended = moment + timedelta(seconds=n * 80)
            failed = n % 7 == 0
            record = {"id": f"{moment:%Y%m%d}-{n:06d}", "name": f"task {n}",
                      "role": "executor" if n % 2 else "coach",
                      "prompt": f"Do the job number {n} of the day, carefully " * 3,
                      "status": "failed" if failed else "success",
                      "outcome": "error" if failed else "success", "attempts": 1,
                      "startedAt": (ended - timedelta(seconds=60)).isoformat(),
                      ("failedAt" if failed else "completedAt"): ended.isoformat(),
                      "durationMs": 60000, "costUsd": 0.01, "numTurns": 3,
                      "error": "it went wrong" if failed else None}
            oldest = oldest or record["id"]
            lines.append(orjson.dumps(record))
        (folder / f"{moment:%Y-%m-%d}.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    recent = [orjson.loads(line) for line in lines[-1000:]]
    for which in ("completed", "failed"):
        (root / "tasks" / f"{which}.json").write_bytes(orjson.dumps({"list": recent}))
    return oldest


def start_server(root: Path) -> tuple[subprocess.Popen, str, int]:
    process = subprocess.Popen([sys.executable, "-m", "pipeline", "--root", str(root), "web",
                                "--port", "0"], stdout=subprocess.PIPE, text=True, cwd=REPO)
    line = process.stdout.readline()
    match = re.search(r"http://([\d.]+):(\d+)/", line)
    if not match:
        raise SystemExit(f"the server did not start: {line}")
    return process, match.group(1), int(match.group(2))


def timed_get(host: str, port: int, path: str, rounds: int) -> list[float]:
    connection = http.client.HTTPConnection(host, port)
    connection.connect()
    connection.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    times = []
    for _ in range(rounds):
        begin = time.perf_counter()
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()
        times.append((time.perf_counter() - begin) * 1000)
        if response.status != 200:
            raise SystemExit(f"GET {path}: {response.status}")
    connection.close()
    return times


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(len(ordered) * 0.95) - 1)]  # nearest rank


class EventClock:
    """Reads the server-sent events; `wait(topic)` returns when the next one naming it came."""

    def __init__(self, host: str, port: int) -> None:
        self.connection = http.client.HTTPConnection(host, port)
        self.connection.request("GET", "/events")
        self.response = self.connection.getresponse()
        self.arrived: list[tuple[float, str]] = []
        self.lock = threading.Condition()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for raw in self.response:
            line = raw.decode().strip()
            if line.startswith("data:"):
                with self.lock:
                    self.arrived.append((time.time(), line))
                    self.lock.notify_all()

    def wait(self, topic: str, since: int, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        with self.lock:
            while True:
                for moment, line in self.arrived[since:]:
                    if f'"{topic}"' in line:
                        return moment
                if not self.lock.wait(max(0.0, deadline - time.monotonic())):
                    raise SystemExit(f"no event for {topic}")

    def count(self) -> int:
        with self.lock:
            return len(self.arrived)


def drop_latencies(root: Path, clock: EventClock, drops: int) -> dict[str, list[float]]:
    sys.path.insert(0, str(REPO))
    from pipeline.cli.queue import add_task
    from pipeline.domain.settings_load import load_settings
    from pipeline.storage.layout import Layout

    layout, settings = Layout(root), load_settings(root)
    found: dict[str, list[float]] = {"inbox": [], "queue": []}
    deadline = time.monotonic() + 10
    while not clock.count() and time.monotonic() < deadline:  # the stream's first message
        time.sleep(0.01)
    for n in range(drops):
        before = clock.count()
        temp = root / "inbox" / f".drop-{n}.tmp"
        temp.write_bytes(orjson.dumps({"prompt": "bench"}))
        moment = time.time()
        os.replace(temp, root / "inbox" / f"drop-{n}.json")
        found["inbox"].append((clock.wait("inbox", before) - moment) * 1000)
        time.sleep(0.05)
        before = clock.count()
        moment = time.time()
        add_task(layout, settings, {"prompt": "bench"})
        found["queue"].append((clock.wait("queue", before) - moment) * 1000)
        time.sleep(0.05)
    return found


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--drops", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        for name in ("tasks", "inbox", "logs"):
            (root / name).mkdir(exist_ok=True)
        oldest = make_history(root, args.records, args.days)
        (root / "runner.toml").write_text("[queue]\nhigh_watermark = 100000\nlow_watermark = 1\n")
        process, host, port = start_server(root)
        try:
            paths = ["/schedules", "/static/app.css", "/", "/queue", "/history",
                     "/history?page=100", "/history?status=failed&role=coach",
                     "/history?text=no-such-text", f"/tasks/{oldest}", "/reports",
                     "/api/status", "/api/history", "/api/history?page=500"]
            print(f"{args.records} history records in {args.days} day files; "
                  f"{args.rounds} GETs each (ms)")
            base = None
            for path in paths:
                times = timed_get(host, port, path, args.rounds)
                median = statistics.median(times)
                base = base or median
                print(f"  {path:<40} median {median:7.2f}  p95 {p95(times):7.2f}  "
                      f"x{median / base:6.1f} the baseline")
            clock = EventClock(host, port)
            found = drop_latencies(root, clock, args.drops)
            for topic, label in (("inbox", "inbox file renamed"), ("queue", "add (queue.json)")):
                values = found[topic]
                print(f"  {label:<24} -> SSE event: median {statistics.median(values):6.1f} ms, "
                      f"p95 {p95(values):6.1f} ms, max {max(values):6.1f} ms")
            clock.connection.sock.shutdown(socket.SHUT_RDWR)  # a page closed before the stop
            time.sleep(0.2)
        finally:
            process.terminate()
            process.wait(timeout=10)


if __name__ == "__main__":
    main()
