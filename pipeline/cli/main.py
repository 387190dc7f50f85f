"""Argument parsing and dispatch. Thin: every command lives in its own module and
is imported only when used, so `add` and `status` start fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from pipeline.domain.settings import SettingsError, load_settings
from pipeline.storage.discovery import find_root, not_a_root_message
from pipeline.storage.layout import Layout

EXIT_CONFIG = 78  # sysexits EX_CONFIG: runner.toml is wrong, not the command's input
READ_ONLY = {"status", "list", "logs", "report", "queue", "doctor", "show"}  # never create state


def _add_parser(sub: argparse._SubParsersAction) -> None:
    add = sub.add_parser("add", help="add a task durably and print its id")
    add.add_argument("prompt", nargs="?",
                     help="what the agent is asked; - reads it from stdin")
    add.add_argument("-w", "--workspace", help="the agent's working folder (default: the root)")
    add.add_argument("-t", "--timeout", help="per attempt: milliseconds, or 600s, 10m, 1h")
    add.add_argument("-y", "--yes", action="store_true", help="autoApprove (skip permissions)")
    add.add_argument("--tools", help="allowed tools, comma-separated")
    add.add_argument("--priority", choices=["high", "normal"],
                     help="high bypasses a full queue and runs before normal work")
    add.add_argument("--id", help="the task id (default: generated)")
    add.add_argument("--name", help="a short label for status and reports")
    add.add_argument("--role", help="e.g. coach or executor (reports group by it)")
    add.add_argument("--model", help="passed to the agent")
    add.add_argument("--max-turns", type=int, help="passed to the agent")
    add.add_argument("--max-retries", type=int, help="retries after the first attempt")
    add.add_argument("--file", help="read the prompt from this file (UTF-8)")
    add.add_argument("--json", action="store_true", help="print the added task as JSON")
    add.add_argument("--init-root", action="store_true",
                     help="make the chosen folder a new root if it is not one yet")


def _schedule_parser(sub: argparse._SubParsersAction) -> None:
    schedule = sub.add_parser("schedule", help="cron schedules in tasks/scheduled.json")
    schedule_sub = schedule.add_subparsers(dest="schedule_command", required=True)
    schedule_sub.add_parser("list", help="every schedule, its next run and problem"
                            ).add_argument("--json", action="store_true", help="as JSON")
    helps = {"enable": "let it fire (refused, with the reason, if it cannot)",
             "disable": "stop it firing", "run": "enqueue a copy now"}
    for name, text in helps.items():
        schedule_sub.add_parser(name, help=text).add_argument("id", help="the schedule id")
    upcoming = schedule_sub.add_parser("next", help="the next firing times (with jitter)")
    upcoming.add_argument("id", help="the schedule id")
    upcoming.add_argument("-n", type=int, default=5, help="how many (default 5)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="claude-runner",
                                     description="Run a coding agent 24/7 from a file queue.")
    parser.add_argument("--root", help="state folder (default $CLAUDE_RUNNER_ROOT or cwd)")
    parser.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                        help="override a runner.toml setting, e.g. --set runner.poll_interval=5")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("run", help="the daemon, in the foreground (kill -HUP re-reads runner.toml)")
    _add_parser(sub)
    status = sub.add_parser("status", help="daemon, running task, queue, pause")
    status.add_argument("--json", action="store_true", help="one JSON object")
    status.add_argument("--why", action="store_true",
                        help="one line: why nothing runs while work is queued")
    listing = sub.add_parser("list", help="a task file as a table")
    listing.add_argument("which", choices=["queue", "running", "completed", "failed",
                                           "scheduled"], help="which file")
    listing.add_argument("--json", action="store_true", help="the entries as JSON")
    listing.add_argument("-n", type=int, help="only N (the newest for completed/failed)")
    queue = sub.add_parser("queue", help="backpressure")
    queue_sub = queue.add_subparsers(dest="queue_command", required=True)
    check = queue_sub.add_parser("check", help="ok / busy / full (exit 75 when full)")
    check.add_argument("--json", action="store_true", help="level, length and watermarks")
    sub.add_parser("cancel", help="cancel a queued or running task").add_argument(
        "id", help="the task id")
    sub.add_parser("retry", help="put a failed task back at the head").add_argument(
        "id", help="the task id")
    sub.add_parser("clear", help="cancel every queued task").add_argument(
        "--yes", action="store_true", help="confirm")
    _schedule_parser(sub)
    skill = sub.add_parser("skill", help="the queue-manager skill for agents")
    skill_sub = skill.add_subparsers(dest="skill_command", required=True)
    skill_sub.add_parser("install", help="copy it into DIR/.claude/skills").add_argument(
        "--workspace", "-w", required=True, help="the agent's workspace")
    report = sub.add_parser("report", help="the daily evaluation report")
    report.add_argument("--date", help="YYYY-MM-DD (default: today so far)")
    report.add_argument("--format", choices=["md", "json"], default="md",
                        help="Markdown (default) or JSON")
    report.add_argument("--week", nargs="?", const="", metavar="YYYY-Www",
                        help="the weekly report (default: this week)")
    sub.add_parser("doctor", help="check the set-up and explain what is wrong")
    logs = sub.add_parser("logs", help="the runner's log, or one task's")
    logs.add_argument("id", nargs="?", help="a task id: its output (all attempts)")
    logs.add_argument("-f", "--follow", action="store_true",
                      help="keep printing as it grows (a queued task: wait for its start)")
    logs.add_argument("-n", "--lines", type=int, default=50,
                      help="start with the last N lines (default 50; 0: everything)")
    pause = sub.add_parser("pause", help="start no new run until resumed (or --until)")
    pause.add_argument("--until", help="a duration (30m, 2h), a clock time (14:30) or an "
                       "ISO time; default: until `claude-runner resume`")
    pause.add_argument("--reason", help="shown in status and the events log")
    sub.add_parser("resume", help="lift a pause, also a usage-limit pause (early)")
    sub.add_parser("show", help="one task: its record, result and the tail of its log"
                   ).add_argument("id", help="the task id")
    web = sub.add_parser("web", help="the live dashboard (needs the [web] extra)")
    web.add_argument("--host", help="address to bind (default [web] host, 127.0.0.1)")
    web.add_argument("--port", type=int, help="port (default [web] port, 8765; 0: any free)")
    _init_parser(sub)
    demo = sub.add_parser("demo", help="the whole loop with a stand-in agent in a temp folder")
    demo.add_argument("--dir", help="a new or empty folder to run it in (default: a temp one)")
    demo.add_argument("--lang", choices=["en", "zh"], default="en",
                      help="the prompts' language (default en)")
    node = sub.add_parser("node", help="a worker node of the postgres backend")
    node.add_argument("--account", required=True, help="the agent account this node uses")
    node.add_argument("--slots", type=int, default=1, help="agents run at once (default 1)")
    node.add_argument("--name", help="node name (default: <host>-<account>)")
    return parser


def _init_parser(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser("init", help="set up the self-evolution loop for a project")
    init.add_argument("--workspace", "-w", required=True, help="the project's folder")
    init.add_argument("--lang", choices=["en", "zh"], default="en", help="prompt language")
    init.add_argument("--plan", help="the plan file, relative to the workspace "
                                     "(default docs/plan.md)")
    init.add_argument("--enable", action="store_true", help="switch the schedules on")
    init.add_argument("--force", action="store_true",
                      help="replace loop schedules that were changed")


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
    if args.command == "demo":  # never touches the user's root or settings
        from pipeline.demo.run import demo

        return demo(args.dir, args.lang)
    found = find_root(args.root)
    if not found.is_root and not _may_create(args):
        print(f"claude-runner: {not_a_root_message(found, args.command == 'add')}",
              file=sys.stderr)
        return 1
    layout = Layout(found.root)
    try:
        settings = load_settings(layout.root, flags=args.set)
    except SettingsError as error:  # the set-up's problem, not the caller's input (not 2)
        print(f"claude-runner: bad settings in {layout.root / 'runner.toml'} (or "
              f"CLAUDE_RUNNER_* / --set): {error}", file=sys.stderr)
        return 1 if args.command == "doctor" else EXIT_CONFIG
    try:
        if args.command == "run":
            from pipeline.execution.procgroup import go_private

            go_private()  # the daemon's folders and files are private from the start
        if not _read_only(args) and args.command != "skill":  # skill needs no state
            layout.ensure()
        return dispatch(args, layout, settings)
    except OSError as error:  # a full disk, a permission: one clear line, no traceback
        print(f"claude-runner: {error}", file=sys.stderr)
        return 1


def _read_only(args: argparse.Namespace) -> bool:
    return args.command in READ_ONLY or getattr(args, "schedule_command", "") in ("list", "next")


def _may_create(args: argparse.Namespace) -> bool:
    """`run` sets up a new root, as does `add --init-root`; `skill` needs none."""
    return args.command in ("run", "skill") or getattr(args, "init_root", False)


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
        return Daemon(layout, settings,
                      reload=lambda: load_settings(layout.root, flags=args.set)).serve()
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
    if args.command == "show":
        return commands.show_task(layout, settings, args)
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
    if args.command in ("pause", "resume"):
        from pipeline.cli import pause

        return getattr(pause, args.command)(layout, args)
    if args.command == "skill":
        from pipeline.cli.skill import skill_install

        return skill_install(args.workspace)
    if args.command == "web":
        from pipeline.web.command import web_command

        return web_command(layout, settings, args)
    if args.command == "init":
        from pipeline.cli.init import init_command

        return init_command(layout, args)
    raise AssertionError(args.command)


def _status(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipeline.cli.status import collect, render
    from pipeline.cli.why import attention, render_attention, summary
    from pipeline.domain import clock
    from pipeline.storage.jsonfile import dumps

    now = clock.now()
    status = collect(layout, settings, now)
    facts = attention(layout, settings, status, now)
    if args.json:
        sys.stdout.write(dumps(status).decode())
    elif args.why:
        print(summary(facts, now))
    else:
        print("\n".join([render(status), *render_attention(status)]))
    return 0


def _report(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from datetime import date

    from pipeline.domain import clock
    from pipeline.report.build import write_report
    from pipeline.report.uptime import first_start, report_day_problem

    if args.week is not None:
        from pipeline.cli.week import week_command

        return week_command(layout, settings, args)
    try:
        day = date.fromisoformat(args.date) if args.date else clock.now().astimezone().date()
    except ValueError:
        print(f"claude-runner: --date {args.date}: expected YYYY-MM-DD", file=sys.stderr)
        return 2
    problem = report_day_problem(day, clock.now(), first_start(layout))
    if problem:
        print(f"claude-runner: {problem}", file=sys.stderr)
        return 2
    if not layout.logs.is_dir():  # read-only: a root without logs/ gets no folders
        from pipeline.report.build import build_report
        from pipeline.report.render import render_markdown
        from pipeline.storage.jsonfile import dumps

        report = build_report(layout, day, clock.now(), settings.poll_interval,
                              high_watermark=settings.high_watermark)
        text = render_markdown(report) if args.format == "md" else dumps(report).decode()
        sys.stdout.write(text)
        return 0
    written = write_report(layout, day, clock.now(), settings.poll_interval,
                           high_watermark=settings.high_watermark)
    path = written.markdown if args.format == "md" else written.json
    sys.stdout.write(path.read_text(encoding="utf-8"))
    return 0


def _logs(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipeline.cli.logs import follow, runner_line, tail_offset, wait_for_start
    from pipeline.domain.task import valid_id
    from pipeline.storage.queue import TaskQueue

    if args.id is None:
        start = tail_offset(layout.runner_log, args.lines)
        follow(layout.runner_log, runner_line, lambda: args.follow, start)
        return 0
    queue = TaskQueue(layout, settings)
    if valid_id(args.id) and not layout.task_log(args.id).exists() and args.follow:
        wait_for_start(layout, queue, args.id)
    if not valid_id(args.id) or not layout.task_log(args.id).exists():
        print(f"claude-runner: no log for task {args.id}", file=sys.stderr)
        return 1

    def still_running() -> bool:
        running = queue.running_task()
        return args.follow and bool(running) and running.get("id") == args.id

    follow(layout.task_log(args.id), None, still_running,
           tail_offset(layout.task_log(args.id), args.lines))
    return 0
