"""Argument parsing and dispatch. Thin: every command lives in its own module and
is imported only when used, so `add` and `status` start fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipeline.domain.settings import SettingsError, load_settings, resolve_root
from pipeline.storage.layout import Layout


def _add_parser(sub: argparse._SubParsersAction) -> None:
    add = sub.add_parser("add", help="add a task durably and print its id")
    add.add_argument("prompt")
    add.add_argument("-w", "--workspace", help="the agent's working folder (default: the root)")
    add.add_argument("-t", "--timeout", type=int, help="milliseconds per attempt")
    add.add_argument("-y", "--yes", action="store_true", help="autoApprove (skip permissions)")
    add.add_argument("--tools", help="allowed tools, comma-separated")
    add.add_argument("--priority", choices=["high", "normal"])
    add.add_argument("--id")
    add.add_argument("--name")
    add.add_argument("--role")
    add.add_argument("--model")
    add.add_argument("--max-turns", type=int)
    add.add_argument("--max-retries", type=int)


def _schedule_parser(sub: argparse._SubParsersAction) -> None:
    schedule = sub.add_parser("schedule", help="cron schedules in tasks/scheduled.json")
    schedule_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    schedule_sub.add_parser("list").add_argument("--json", action="store_true")
    for name in ("enable", "disable", "run"):
        schedule_sub.add_parser(name).add_argument("id")
    upcoming = schedule_sub.add_parser("next", help="the next firing times")
    upcoming.add_argument("id")
    upcoming.add_argument("-n", type=int, default=5)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claude-runner",
                                     description="Run a coding agent 24/7 from a file queue.")
    parser.add_argument("--root", help="state folder (default $CLAUDE_RUNNER_ROOT or cwd)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a runner.toml setting, e.g. --set runner.poll_interval=5")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the daemon, in the foreground")
    _add_parser(sub)
    status = sub.add_parser("status", help="daemon, running task, queue, pause")
    status.add_argument("--json", action="store_true")
    listing = sub.add_parser("list", help="show a task file")
    listing.add_argument("which", choices=["queue", "running", "completed", "failed",
                                           "scheduled"])
    listing.add_argument("--json", action="store_true")
    listing.add_argument("-n", type=int)
    queue = sub.add_parser("queue", help="backpressure")
    queue_sub = queue.add_subparsers(dest="queue_command", required=True)
    check = queue_sub.add_parser("check", help="ok / busy / full (exit 75 when full)")
    check.add_argument("--json", action="store_true")
    sub.add_parser("cancel", help="cancel a queued or running task").add_argument("id")
    sub.add_parser("retry", help="put a failed task back at the head").add_argument("id")
    sub.add_parser("clear", help="cancel every queued task").add_argument(
        "--yes", action="store_true")
    _schedule_parser(sub)
    skill = sub.add_parser("skill", help="the queue-manager skill for agents")
    skill_sub = skill.add_subparsers(dest="skill_command", required=True)
    skill_sub.add_parser("install").add_argument("--workspace", "-w", required=True)
    report = sub.add_parser("report", help="the daily evaluation report")
    report.add_argument("--date", help="YYYY-MM-DD (default: today so far)")
    report.add_argument("--format", choices=["md", "json"], default="md")
    sub.add_parser("doctor", help="check the set-up and explain what is wrong")
    logs = sub.add_parser("logs", help="the runner's log, or one task's")
    logs.add_argument("id", nargs="?")
    logs.add_argument("-f", "--follow", action="store_true")
    node = sub.add_parser("node", help="a worker node of the postgres backend")
    node.add_argument("--account", required=True, help="the agent account this node uses")
    node.add_argument("--slots", type=int, default=1, help="agents run at once (default 1)")
    node.add_argument("--name", help="node name (default: <host>-<account>)")
    return parser


def _root_option(argv: Sequence[str]) -> list[str]:
    """Accept --root and --set after the subcommand too (`claude-runner status --root DIR`)."""
    args, front = list(argv), []
    at = 1
    while at < len(args) - 1:
        if args[at] in ("--root", "--set"):
            front += args[at:at + 2]
            del args[at:at + 2]
        else:
            at += 1
    return front + args


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(_root_option(sys.argv[1:] if argv is None else argv))
    layout = Layout(resolve_root(args.root))
    try:
        settings = load_settings(layout.root, flags=args.set)
    except SettingsError as error:
        print(f"claude-runner: bad settings: {error}", file=sys.stderr)
        return 1 if args.command == "doctor" else 2
    try:
        if args.command != "doctor":  # doctor reports missing or broken folders itself
            layout.ensure()
        return dispatch(args, layout, settings)
    except OSError as error:  # a full disk, a permission: one clear line, no traceback
        print(f"claude-runner: {error}", file=sys.stderr)
        return 1


def dispatch(args: argparse.Namespace, layout: Layout, settings) -> int:  # noqa: ANN001
    from pipeline import log
    from pipeline.storage import events

    events.configure(dict(settings.hooks), settings.hook_timeout)
    if settings.backend_kind == "postgres" and args.command in ("run", "node"):
        from pipeline.postgres import missing_extra

        if missing_extra():
            print(f"claude-runner: {missing_extra()}", file=sys.stderr)
            return 2
    if args.command == "run":
        from pipeline.daemon.daemon import Daemon

        log.setup(layout)
        return Daemon(layout, settings).serve()
    if args.command == "node":
        from pipeline.postgres.cli import node

        log.setup(None)
        return node(layout, settings, args)
    log.quiet()
    if settings.backend_kind == "postgres" and args.command in ("cancel", "clear"):
        from pipeline.postgres import cli as postgres_cli

        return getattr(postgres_cli, args.command)(layout, settings, args)
    from pipeline.cli import queue as commands

    simple = {"add": commands.add, "cancel": commands.cancel, "retry": commands.retry,
              "clear": commands.clear}
    if args.command in simple:
        return simple[args.command](layout, settings, args)
    if args.command == "list":
        return commands.list_file(layout, args)
    if args.command == "queue":
        return commands.queue_check(layout, settings, args)
    if args.command == "status":
        return _status(layout, settings, args)
    if args.command == "logs":
        return _logs(layout, settings, args)
    if args.command == "schedule":
        from pipeline.cli.schedule import schedule_command

        return schedule_command(layout, settings, args)
    if args.command == "report":
        return _report(layout, settings, args)
    if args.command == "doctor":
        from pipeline.doctor.run import main as doctor

        return doctor(layout, settings)
    if args.command == "skill":
        from pipeline.cli.skill import skill_install

        return skill_install(args.workspace)
    raise AssertionError(args.command)


def _status(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipeline.cli.status import collect, render
    from pipeline.domain import clock
    from pipeline.storage.jsonfile import dumps

    status = collect(layout, settings, clock.now())
    sys.stdout.write(dumps(status).decode() if args.json else render(status) + "\n")
    return 0


def _report(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from datetime import date

    from pipeline.domain import clock
    from pipeline.report.build import write_report

    try:
        day = date.fromisoformat(args.date) if args.date else clock.now().astimezone().date()
    except ValueError:
        print(f"claude-runner: --date {args.date}: expected YYYY-MM-DD", file=sys.stderr)
        return 2
    written = write_report(layout, day, clock.now(), settings.poll_interval)
    path = written.markdown if args.format == "md" else written.json
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


def _logs(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipeline.cli.logs import follow, runner_line
    from pipeline.domain.task import valid_id
    from pipeline.storage.queue import TaskQueue

    if args.id is None:
        follow(layout.runner_log, runner_line, lambda: args.follow)
        return 0
    if not valid_id(args.id) or not layout.task_log(args.id).exists():
        print(f"claude-runner: no log for task {args.id}", file=sys.stderr)
        return 1
    queue = TaskQueue(layout, settings)

    def still_running() -> bool:
        running = queue.running_task()
        return args.follow and bool(running) and running.get("id") == args.id

    follow(layout.task_log(args.id), None, still_running)
    return 0
