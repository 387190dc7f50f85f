"""`claude-runner demo`: the whole self-evolution loop in a temporary folder, in seconds.

A new root and a new git project under a temp folder; `init --enable` there; the real
daemon started on that root with the stand-in agent (`pipeline.demo.agent`); each of the
loop's schedules fired once with `schedule run` (coach planning, its tasks, the executor,
both self-evolution runs, the evaluation); then the daemon is stopped, the day's report
written, its goals section printed, and where to look. Nothing outside the temp folder is
read or written: the user's root, runner.toml and CLAUDE_RUNNER_* settings are ignored.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pipeline.storage.jsonfile import CorruptFile, JsonFile

ORDER = ("opc-coach-planning", "opc-ceo-execution", "opc-coach-planning2",
         "opc-ceo-execution2", "opc-evaluation")
WAIT = 60.0  # seconds for one step at most


def _runner(root: Path, *args: str) -> tuple[int, str]:
    """One claude-runner command on the demo root, as a user runs it: a process of its own."""
    done = subprocess.run([sys.executable, "-m", "pipeline", "--root", str(root), *args],
                          capture_output=True, text=True, timeout=WAIT,
                          stdin=subprocess.DEVNULL)
    return done.returncode, done.stdout + done.stderr


def _git(workspace: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(workspace), *args], check=True, capture_output=True,
                          text=True, timeout=60).stdout.strip()


def make_project(workspace: Path) -> Path:
    """`workspace` (created if missing) as a git repository with one commit."""
    workspace.mkdir(exist_ok=True)
    _git(workspace, "init", "-q")
    _git(workspace, "config", "user.name", "claude-runner demo")
    _git(workspace, "config", "user.email", "demo@example.invalid")
    (workspace / "README.md").write_text("# A demo project\n", encoding="utf-8")
    _git(workspace, "add", "README.md")
    _git(workspace, "commit", "-qm", "Initial commit")
    return workspace


def write_settings(root: Path) -> None:
    root.mkdir()
    argv = [sys.executable, "-m", "pipeline.demo.agent"]
    (root / "runner.toml").write_text(
        "[runner]\npoll_interval = 2\ndefault_timeout = 60000\nretry_delay = 1\n\n"
        f"[agent]\npreset = \"custom\"\nargv = {_toml_list(argv)}\n", encoding="utf-8")


def _toml_list(items: list[str]) -> str:
    import json

    return "[" + ", ".join(json.dumps(item) for item in items) + "]"


def _clean_env(root: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CLAUDE_RUNNER_")}
    return {**env, "CLAUDE_RUNNER_ROOT": str(root), "PYTHONUNBUFFERED": "1"}


def _finished(root: Path) -> int:
    total = 0
    for name in ("completed", "failed"):
        with contextlib.suppress(CorruptFile, OSError):
            total += len(JsonFile(root / "tasks" / f"{name}.json", "list").items())
    return total


def _idle(root: Path) -> bool:
    try:
        queued = JsonFile(root / "tasks" / "queue.json", "list").items()
        running = JsonFile(root / "tasks" / "running.json", None).load()
    except (CorruptFile, OSError):
        return False
    return not queued and not running.get("id")


def _wait(predicate, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + WAIT
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the demo waited {WAIT:.0f} s for {what}")
        time.sleep(0.05)


class Daemon:
    def __init__(self, root: Path) -> None:
        self.root = root
        log = open(root / "daemon-output.txt", "ab")  # noqa: SIM115
        self.process = subprocess.Popen([sys.executable, "-m", "pipeline", "run", "--root",
                                         str(root)], stdout=log, stderr=subprocess.STDOUT,
                                        env=_clean_env(root), cwd=root)
        log.close()

    def ready(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the demo daemon exited ({self.process.returncode}); see "
                               f"{self.root / 'daemon-output.txt'}")
        state = JsonFile(self.root / "tasks" / "state.json", None)
        with contextlib.suppress(CorruptFile, OSError):
            data = state.load()
            return data.get("pid") == self.process.pid and bool(data.get("heartbeatAt"))
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def _prepare(folder: str | None) -> Path:
    if folder is None:
        return Path(tempfile.mkdtemp(prefix="claude-runner-demo-"))
    base = Path(folder).expanduser().resolve()
    if base.exists() and any(base.iterdir()):
        raise FileExistsError(f"{base} is not empty: give a new or empty folder")
    base.mkdir(parents=True, exist_ok=True)
    return base


def _fire_all(root: Path) -> None:
    for schedule_id in ORDER:
        before = _finished(root)
        code, out = _runner(root, "schedule", "run", schedule_id)
        if code != 0:
            raise RuntimeError(f"schedule run {schedule_id}: {out.strip()}")
        _wait(lambda b=before: _finished(root) > b and _idle(root), schedule_id)
        print(f"  ran      {schedule_id:<20} {_finished(root) - before} task(s) finished")


def demo(folder: str | None = None, lang: str = "en") -> int:
    started = time.monotonic()
    for key in [k for k in os.environ if k.startswith("CLAUDE_RUNNER_")]:
        del os.environ[key]  # the user's root and overrides play no part
    try:
        base = _prepare(folder)
    except (FileExistsError, OSError) as error:
        print(f"claude-runner demo: {error}", file=sys.stderr)
        return 2
    root = base / "root"
    write_settings(root)
    workspace = make_project(base / "project")
    print(f"claude-runner demo in {base} (nothing outside it is touched)")
    code, out = _runner(root, "init", "--workspace", str(workspace), "--enable", "--lang", lang)
    if code != 0:
        print(out, file=sys.stderr)
        return 1
    print(f"  init     5 schedules, the queue-manager skill and docs/plan.md in {workspace}")
    daemon = Daemon(root)
    try:
        _wait(daemon.ready, "the daemon's first heartbeat")
        print(f"  daemon   pid {daemon.process.pid}, stand-in agent pipeline.demo.agent")
        _fire_all(root)
    finally:
        daemon.stop()
    _code, report = _runner(root, "report")
    section = report[report.index("## Goals"):report.index("## Summary")].rstrip()
    print(f"\n{section}\n\n(Uptime counts the whole day so far: the demo's daemon ran for "
          "seconds of it.)\n")
    _where(root, workspace, time.monotonic() - started)
    return 0


def _where(root: Path, workspace: Path, seconds: float) -> None:
    reports = root / "logs" / "reports"
    day = sorted(reports.glob("*.md"))[-1].stem if reports.is_dir() else ""
    print(f"Done in {seconds:.1f} s. Look at:")
    print(f"  the report     {reports / (day + '.md')} (and .json, .svg)")
    print(f"  the commits    git -C {workspace} log --oneline")
    print(f"  the tasks      claude-runner --root {root} list completed")
    print(f"  the evaluation {workspace / 'docs' / 'evaluations'}/")
    print(f"  the schedules  {root / 'tasks' / 'scheduled.json'}")
    print(f"Remove it with: rm -rf {root.parent}")
