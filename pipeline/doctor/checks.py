"""The individual checks of `claude-runner doctor` (run and printed by `pipeline.doctor.run`).

Each check is a small function returning one `Check`. Whatever touches the outside
world beyond the root (PM2, the environment, HOME, root-ness, the disk threshold) comes
in through `pipeline.doctor.run.Probes`, so tests can stand in for it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from filelock import FileLock, Timeout

from pipeline.agent.presets import build_env, executable, speaks_claude_json
from pipeline.agent.session import supports_permission_prompts
from pipeline.doctor.probes import GB, Pm2Unavailable, Probes, first_line
from pipeline.domain.schedule import schedules_in
from pipeline.domain.settings import Settings
from pipeline.domain.task import tasks_in
from pipeline.execution import cli_features
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

AUTH_KEYS = ("ANTHROPIC_API_KEY", "CLAUDE_CODE_OAUTH_TOKEN")
INSTANCE_LOCK = "daemon.lock"  # held by a live daemon for its whole life: not a problem


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    hint: str | None = None
    level: str = "error"  # "warning": a failure that may be fine on some set-ups


# ----- the agent -----------------------------------------------------------------------
def agent_program(settings: Settings) -> str:
    """The executable the runner starts (the custom preset's is its argv's first word)."""
    program = executable(settings)
    if not program and settings.agent_argv:
        program = settings.agent_argv[0]
    return program


def check_agent(settings: Settings, probes: Probes) -> Check:
    name = "agent CLI"
    program = agent_program(settings)
    path = shutil.which(program, path=probes.environ.get("PATH")) if program else None
    if path is None:
        return Check(name, False, f"{program!r} is not on PATH or not executable",
                     "install it (npm install -g @anthropic-ai/claude-code) or set "
                     "[agent] command in runner.toml to its full path")
    try:
        done = subprocess.run([path, "--version"], capture_output=True, text=True,
                              stdin=subprocess.DEVNULL, timeout=probes.version_timeout,
                              env=build_env(settings, probes.environ))
    except subprocess.TimeoutExpired:
        return Check(name, False, f"{path} --version did not answer in "
                     f"{probes.version_timeout:g} s", "run it by hand to see what it waits for")
    except OSError as error:
        return Check(name, False, f"{path} cannot be started: {error}")
    version = first_line(done.stdout) or first_line(done.stderr)
    if done.returncode != 0:
        return Check(name, False, f"{path} --version exited {done.returncode}: {version}")
    return Check(name, True, f"{path} ({version or 'no version printed'})")


def check_permission_prompts(settings: Settings, probes: Probes) -> Check:
    """Whether the installed CLI turns a permission prompt into a denial (detected from its
    --help, as the daemon does at start)."""
    name = "permission prompts"
    if not speaks_claude_json(settings):
        return Check(name, True, f"not checked for the {settings.agent_preset} preset")
    text = cli_features.help_text(settings, build_env(settings, probes.environ),
                                  probes.version_timeout)
    if text is None:
        return Check(name, True, "not checked: the agent CLI did not answer --help")
    if supports_permission_prompts(text):
        return Check(name, True, "the CLI has --permission-prompts: the runner passes "
                     "`--permission-prompts none`, so a prompt becomes a denial, never a hang")
    return Check(name, True, "this CLI has no --permission-prompts (added in 2.1.259): not "
                 "passed; a run that waits on anything is ended by idle_timeout")


def check_auth(settings: Settings, probes: Probes) -> Check:
    """What Claude Code will see: the agent's environment as the runner builds it."""
    name = "agent auth"
    if settings.agent_preset != "claude":
        return Check(name, True, f"not checked for the {settings.agent_preset} preset")
    agent_env = dict(settings.agent_env)
    env = build_env(settings, probes.environ)
    for key in AUTH_KEYS:
        if env.get(key):
            where = "[agent] env" if agent_env.get(key) else "the environment"
            return Check(name, True, f"{key} set in {where}")
    home = Path(agent_env.get("HOME") or probes.home)
    credentials = home / ".claude" / ".credentials.json"
    if credentials.is_file():
        return Check(name, True, f"{credentials} exists (claude login)")
    dropped = [k for k in AUTH_KEYS if probes.environ.get(k)]
    if dropped:
        return Check(name, False, f"{dropped[0]} is set but [agent] env_passthrough drops it",
                     f"add {dropped[0]!r} to [agent] env_passthrough in runner.toml",
                     level="warning")
    return Check(name, False, f"no {' or '.join(AUTH_KEYS)} and no {credentials}",
                 "set one of them in the environment PM2 starts the runner with or in "
                 "[agent] env, or run `claude login` (or `claude setup-token`) as this user; "
                 "on macOS a login lives in the Keychain and this check cannot see it",
                 level="warning")


def check_root_auto_approve(layout: Layout, settings: Settings, probes: Probes) -> Check:
    name = "root + autoApprove"
    if not probes.is_root:
        return Check(name, True, "not running as root")
    if settings.agent_preset != "claude":
        return Check(name, True, f"root, but not checked for the {settings.agent_preset} preset")
    if settings.agent_sandboxed or build_env(settings, probes.environ).get(
            "IS_SANDBOX", "").strip().lower() in ("1", "yes", "true"):
        return Check(name, True, "root, but the agent runs with IS_SANDBOX=1")
    users = _auto_approve_users(layout)
    if not users:
        return Check(name, True, "root, but no queued task or enabled schedule uses autoApprove")
    return Check(name, False, f"running as root and autoApprove is used by {', '.join(users)}: "
                 "Claude Code refuses --dangerously-skip-permissions as root",
                 "run the runner as a normal user, or set [agent] sandboxed = true in "
                 "runner.toml if this machine is a disposable sandbox")


def _auto_approve_users(layout: Layout) -> list[str]:
    found = [f"task {t.id}" for t in tasks_in(_items(layout.queue, "list")) if t.auto_approve]
    found += [f"schedule {s.label or '?'}" for s in schedules_in(_items(layout.scheduled, "tasks"))
              if s.extra.get("autoApprove") is True and s.enabled]
    return found


def _items(path: Path, key: str) -> list[Any]:
    with contextlib.suppress(CorruptFile, OSError):
        return JsonFile(path, key).items()
    return []  # unreadable files are reported by check_json_files


# ----- the root ------------------------------------------------------------------------
def check_folders(layout: Layout) -> Check:
    problems = [p for p in (_folder_problem(f) for f in (layout.tasks, layout.inbox,
                                                          layout.logs)) if p]
    if problems:
        return Check("folders", False, "; ".join(problems),
                     "make them folders writable by the user PM2 runs the runner as")
    return Check("folders", True, f"tasks/, inbox/, logs/ writable under {layout.root}")


def _folder_problem(folder: Path) -> str | None:
    if not folder.exists():
        return _folder_problem(folder.parent) if folder.parent != folder else None
    if not folder.is_dir():
        return f"{folder} is not a folder"
    try:
        fd, temp = tempfile.mkstemp(dir=folder, prefix=".doctor-", suffix=".tmp")
        os.close(fd)
        os.unlink(temp)
    except OSError as error:
        return f"{folder} is not writable ({error.strerror})"
    return None


def check_locks(layout: Layout, probes: Probes) -> Check:
    name = "locks"
    paths = sorted(p for p in layout.tasks.glob("*.lock") if p.name != INSTANCE_LOCK)
    held = [p.name for p in paths if _held(p, probes.lock_wait)]
    if held:
        return Check(name, False, f"held for more than {probes.lock_wait:g} s: "
                     f"{', '.join(held)}",
                     "a process is stuck holding it (see `fuser` / `lsof` on the file); "
                     "end that process; every writer of the file waits meanwhile")
    return Check(name, True, f"{len(paths)} lock file(s), none held")


def _held(path: Path, wait: float) -> bool:
    lock = FileLock(str(path), timeout=wait)
    try:
        lock.acquire()
    except Timeout:
        return True
    except OSError:
        return False
    lock.release()
    return False


def check_json_files(layout: Layout) -> Check:
    files = ((layout.queue, "list"), (layout.running, None), (layout.completed, "list"),
             (layout.failed, "list"), (layout.scheduled, "tasks"), (layout.state, None))
    broken = []
    for path, key in files:
        try:
            JsonFile(path, key).load()
        except CorruptFile as error:
            broken.append(f"{path.name}: {error.reason}")
        except OSError as error:
            broken.append(f"{path.name}: {error.strerror}")
    if broken:
        return Check("task files", False, "; ".join(broken),
                     "fix the file by hand (the runner leaves it untouched and skips it "
                     "meanwhile), or move it aside to start it afresh")
    return Check("task files", True, f"{len(files)} JSON files in tasks/ parse")


def check_disk(layout: Layout, probes: Probes) -> Check:
    where = _existing(layout.root)
    free = shutil.disk_usage(where).free
    detail = f"{free / GB:.1f} GB free on {where}"
    if free < probes.min_free_bytes:
        return Check("disk", False, f"{detail} (need {probes.min_free_bytes / GB:.1f} GB)",
                     "free some space; logs/tasks/ and logs/*.log grow with every task")
    return Check("disk", True, detail)


def _existing(path: Path) -> Path:
    while not path.exists() and path.parent != path:
        path = path.parent
    return path


# ----- PM2 -----------------------------------------------------------------------------
def check_pm2(layout: Layout, probes: Probes) -> Check:
    name = "PM2"
    app = probes.app_name or probes.environ.get("CLAUDE_RUNNER_APP_NAME") or "claude-runner"
    try:
        apps = probes.pm2_apps()
    except Pm2Unavailable as error:
        return Check(name, False, str(error), "start it: scripts/start-pm2.sh "
                     "(scripts\\start-pm2.bat on Windows)")
    if apps is None:
        return Check(name, False, "pm2 is not installed",
                     "scripts/start-pm2.sh installs it, or: npm install -g pm2")
    entry = _find_app(apps, app, layout.root)
    if entry is None:
        return Check(name, False, f"no PM2 app {app!r} for {layout.root}",
                     "pm2 start ecosystem.config.js && pm2 save (or scripts/start-pm2.sh)")
    pm2_env = entry.get("pm2_env") or {}
    status, pid = pm2_env.get("status", "?"), entry.get("pid") or 0
    restarts = f"{pm2_env.get('restart_time', 0)} restart(s)"
    if status != "online" or not pid:
        return Check(name, False, f"{entry.get('name')} is {status} (pid {pid}), {restarts}",
                     f"pm2 logs {entry.get('name')} --lines 50; then pm2 restart "
                     f"{entry.get('name')}")
    return Check(name, True, f"{entry.get('name')} online, pid {pid}, {restarts}")


def _find_app(apps: Iterable[dict[str, Any]], name: str, root: Path) -> dict[str, Any] | None:
    apps = list(apps)
    named = [a for a in apps if a.get("name") == name]
    if named:
        return named[0]
    for entry in apps:  # registered under another name but serving this root
        env = entry.get("pm2_env") or {}
        chosen = env.get("CLAUDE_RUNNER_ROOT") or (env.get("env") or {}).get("CLAUDE_RUNNER_ROOT")
        if chosen and Path(chosen).resolve() == root.resolve():
            return entry
    return None
