"""`claude-runner doctor`: is this machine ready to run tasks 24/7?

Runs the checks of `pipeline.doctor.checks` and prints one line per check. Whatever touches
the outside world beyond the root (PM2, the environment, HOME, root-ness, the disk
threshold) comes in through `Probes`, so tests can stand in for it.
"""

from __future__ import annotations

import importlib.util
import sys

from pipeline.doctor.checks import (
    Check,
    check_agent,
    check_auth,
    check_disk,
    check_folders,
    check_json_files,
    check_locks,
    check_permission_prompts,
    check_pm2,
    check_root_auto_approve,
)
from pipeline.doctor.probes import Probes
from pipeline.doctor.reach import check_agent_reaches_queue, check_schedules
from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout


def check_notify() -> Check:
    """[notify] urls need apprise, the optional extra claude-runner[notify]."""
    if importlib.util.find_spec("apprise") is None:
        return Check("notifications", False, "[notify] urls are set but apprise is not installed",
                     "pip install 'claude-runner[notify]'")
    return Check("notifications", True, "apprise installed")


# ----- putting it together -------------------------------------------------------------
def run_checks(layout: Layout, settings: Settings, probes: Probes | None = None) -> list[Check]:
    probes = probes or Probes()
    extra = []
    if settings.backend_kind == "postgres":
        from pipeline.postgres.doctor import check_backend

        extra.append(check_backend(settings))
    return extra + [
        check_agent(settings, probes),
        check_agent_reaches_queue(layout, settings, probes),
        check_auth(settings, probes),
        check_root_auto_approve(layout, settings, probes),
        check_folders(layout),
        check_locks(layout, probes),
        check_json_files(layout),
        check_schedules(layout, settings, probes.now),
        check_pm2(layout, probes),
        check_disk(layout, probes),
        check_permission_prompts(settings, probes),
        *([check_notify()] if settings.notify_urls else []),
    ]


def format_check(check: Check, marks: tuple[str, str] = ("✓", "✗")) -> str:
    mark = marks[0] if check.ok else marks[1]
    warning = " (warning)" if not check.ok and check.level == "warning" else ""
    line = f"{mark} {check.name}{warning}: {check.detail}"
    return line + (f"\n    hint: {check.hint}" if check.hint and not check.ok else "")


def _marks() -> tuple[str, str]:
    """✓/✗ where the console can print them (a Windows code page may not)."""
    try:
        "✓✗".encode(sys.stdout.encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ("OK  ", "FAIL")
    return ("✓", "✗")


def main(layout: Layout, settings: Settings, probes: Probes | None = None) -> int:
    checks = run_checks(layout, settings, probes)
    marks = _marks()
    for check in checks:
        print(format_check(check, marks))
    return 0 if all(check.ok for check in checks) else 1
