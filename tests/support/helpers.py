"""Shared test helpers: a real daemon on a temp root, driven through files and the CLI."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")
FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], T], timeout: float = 15.0, interval: float = 0.01,
             message: str = "condition") -> T:
    """Poll `predicate` until it returns something truthy; fail after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {message}")
        time.sleep(interval)


def read_json(path: Path, default: Any = None) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return default


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.test.tmp")
    temp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(temp, path)


def records(root: Path, which: str) -> list[dict[str, Any]]:
    return (read_json(root / "tasks" / f"{which}.json") or {}).get("list", [])


def record_of(root: Path, task_id: str) -> dict[str, Any] | None:
    for which in ("completed", "failed"):
        for record in records(root, which):
            if record.get("id") == task_id:
                return record
    return None


def history(root: Path) -> list[dict[str, Any]]:
    lines = []
    for path in sorted((root / "tasks" / "history").glob("*.jsonl")):
        # split on "\n" only: str.splitlines also splits at U+2028 or \x85 inside a string
        lines += [json.loads(line) for line in path.read_text().split("\n") if line.strip()]
    return lines


def write_settings(root: Path, text: str = "") -> None:
    base = f"""
[runner]
poll_interval = 10
retry_delay = 0.2
kill_grace = 1
default_timeout = 60000

[agent]
command = "{FAKE_AGENT}"
"""
    (root / "runner.toml").write_text(merge_toml(base, text))


def merge_toml(base: str, extra: str) -> str:
    """Later keys win: append the extra lines into their sections."""
    sections: dict[str, list[str]] = {}
    current = ""
    for line in (base + "\n" + extra).splitlines():
        stripped = line.strip()
        if stripped.startswith("["):
            current = stripped
            sections.setdefault(current, [])
        elif stripped:
            key = stripped.split("=")[0].strip()
            sections.setdefault(current, [])
            sections[current] = [x for x in sections[current] if x.split("=")[0].strip() != key]
            sections[current].append(stripped)
    return "\n".join(f"{name}\n" + "\n".join(lines) for name, lines in sections.items()) + "\n"


def cli(root: Path, *args: str, timeout: float = 30, **kwargs: Any) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=timeout, cwd=REPO, **kwargs)


class DaemonProcess:
    """`claude-runner run` as a real subprocess on a temp root."""

    def __init__(self, root: Path, env: dict[str, str] | None = None,
                 output: Path | None = None) -> None:
        self.root = root
        self.output_path = output or root / "daemon-output.txt"
        self.env = {**os.environ, **(env or {})}
        self.env.pop("CLAUDE_RUNNER_ROOT", None)
        self.process: subprocess.Popen | None = None

    def start(self, wait: bool = True) -> DaemonProcess:
        log = open(self.output_path, "ab")  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "run", "--root", str(self.root)],
            stdout=log, stderr=subprocess.STDOUT, env=self.env, cwd=REPO)
        log.close()
        if wait:
            wait_for(self.ready, timeout=20, message="the daemon's first heartbeat")
        return self

    def ready(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"daemon exited {self.process.returncode}: {self.output()}")
        state = read_json(self.root / "tasks" / "state.json") or {}
        return state.get("pid") == self.process.pid and bool(state.get("heartbeatAt"))

    def output(self) -> str:
        path = self.output_path
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def signal(self, sig: int) -> None:
        assert self.process is not None
        self.process.send_signal(sig)

    def wait(self, timeout: float = 20) -> int:
        assert self.process is not None
        return self.process.wait(timeout=timeout)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


# ----- additions for the integration tests ----------------------------------------------

def write_bytes_atomic(path: Path, payload: bytes) -> None:
    """Write raw bytes through a hidden temp file and a rename (what a careful producer does)."""
    temp = path.with_name(f".{path.name}.test.tmp")
    temp.write_bytes(payload)
    os.replace(temp, path)


def drop(root: Path, name: str, data: Any = None, raw: bytes | None = None) -> float:
    """Drop an inbox file atomically (hidden temp + rename); returns time.time() of the rename."""
    payload = raw if raw is not None else json.dumps(data, ensure_ascii=False).encode()
    temp = root / "inbox" / f".{name}.test.tmp"
    temp.write_bytes(payload)
    moment = time.time()
    os.replace(temp, root / "inbox" / name)
    return moment


def queue_tasks(root: Path) -> list[dict[str, Any]]:
    return (read_json(root / "tasks" / "queue.json") or {}).get("list", [])


def queue_ids(root: Path) -> list[Any]:
    return [task.get("id") for task in queue_tasks(root)]


def running_task(root: Path) -> dict[str, Any]:
    return read_json(root / "tasks" / "running.json") or {}


def running_id(root: Path) -> str | None:
    return running_task(root).get("id")


def state(root: Path) -> dict[str, Any]:
    return read_json(root / "tasks" / "state.json") or {}


def status_json(root: Path) -> dict[str, Any]:
    done = cli(root, "status", "--json")
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def task_log(root: Path, task_id: str) -> str:
    path = root / "logs" / "tasks" / f"{task_id}.log"
    return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""


def parse_time(text: str) -> float:
    """An ISO 8601 time with an offset -> epoch seconds (fails on a naive time)."""
    from datetime import datetime

    moment = datetime.fromisoformat(text)
    assert moment.utcoffset() is not None, f"{text!r} has no UTC offset"
    return moment.timestamp()


def pid_gone(pid: int) -> bool:
    """True when the process no longer exists. A zombie counts as gone: it has ended and
    only waits for an unrelated parent (e.g. a container's init) to reap it."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


def holds(predicate: Callable[[], Any], duration: float, interval: float = 0.01,
          message: str = "condition") -> None:
    """Assert that `predicate` stays truthy during the whole of `duration` seconds."""
    deadline = time.monotonic() + duration
    while time.monotonic() < deadline:
        assert predicate(), f"{message} stopped holding"
        time.sleep(interval)
    assert predicate(), f"{message} stopped holding"


def append_to_queue(root: Path, *tasks: dict[str, Any]) -> None:
    """What another agent does: edit queue.json under its lock, replace atomically."""
    from filelock import FileLock

    queue = root / "tasks" / "queue.json"
    with FileLock(str(queue) + ".lock"):
        data = read_json(queue) or {"list": []}
        data["list"].extend(tasks)
        write_json(queue, data)
