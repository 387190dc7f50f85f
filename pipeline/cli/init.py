"""`claude-runner init --workspace DIR [--lang en|zh] [--plan FILE] [--enable] [--force]`:
set up the self-evolution loop for a project in one command.

Merges the loop's schedules into tasks/scheduled.json under its lock (never clobbering a
schedule the user changed, unless --force), installs the queue-manager skill into the
workspace, creates the plan file if missing, and says what it did and what to run next.
"""

from __future__ import annotations

import sys
from argparse import Namespace
from pathlib import Path

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, EXIT_UNKNOWN, fail
from pipeline.cli.skill import install_into
from pipeline.scheduling.selfevolution import PLAN_TEMPLATE, Merge, loop_schedules, merge
from pipeline.storage.jsonfile import CorruptFile, JsonFile
from pipeline.storage.layout import Layout

DEFAULT_PLAN = "docs/plan.md"


def init_command(layout: Layout, args: Namespace) -> int:
    workspace = Path(args.workspace).expanduser().resolve()
    if not workspace.is_dir():
        return fail(f"--workspace {args.workspace}: not a folder", EXIT_BAD_INPUT)
    plan = Path(args.plan or DEFAULT_PLAN)
    plan_path = plan if plan.is_absolute() else workspace / plan
    wanted = loop_schedules(str(workspace), str(plan), args.lang, args.enable)
    try:
        result = JsonFile(layout.scheduled, "tasks").update(
            lambda data: merge(data["tasks"], wanted, args.force))
    except CorruptFile as error:
        return fail(f"{error}; fix it first, nothing was changed", EXIT_UNKNOWN)
    if result.conflicts:
        return fail(f"{', '.join(result.conflicts)} already exist(s) in {layout.scheduled} "
                    "and differ(s) from the loop's; nothing was changed (use --force to "
                    "replace them)", EXIT_UNKNOWN)
    skill = install_into(workspace)
    created = _create_plan(plan_path, args.lang)
    _say(layout, result, skill, plan_path, created, workspace, args.enable)
    return EXIT_OK


def _create_plan(path: Path, lang: str) -> bool:
    if path.exists():
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(PLAN_TEMPLATE[lang], encoding="utf-8")
    return True


def _say(layout: Layout, result: Merge, skill: Path, plan: Path, created: bool,
         workspace: Path, enabled: bool) -> None:
    for label, ids in (("added", result.added), ("enabled", result.enabled),
                       ("replaced", result.replaced), ("unchanged", result.unchanged)):
        if ids:
            print(f"{label:<10}{', '.join(ids)}  ({layout.scheduled})")
    print(f"skill     {skill}")
    print(f"plan      {plan}" + (" (created)" if created else " (kept)"))
    if not (workspace / ".git").exists():
        print(f"note      {workspace} is not a git repository: optimisations are counted "
              "from commits (git init)", file=sys.stderr)
    root = f"--root {layout.root} "
    if not enabled:
        print("next      the schedules are disabled: claude-runner "
              f"{root}init --workspace {workspace} --enable")
    print(f"run       claude-runner {root}run   (or scripts/start-pm2.sh for 24/7)")
