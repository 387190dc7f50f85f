"""Argument parsing and dispatch. Thin: every command lives in its own module and
is imported only when used, so `add` and `status` start fast."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence

from pipeline.cli.parser import build_parser, root_option
from pipeline.domain.settings import Settings, SettingsError
from pipeline.domain.settings_load import load_settings
from pipeline.storage.discovery import find_root, not_a_root_message
from pipeline.storage.layout import Layout

EXIT_CONFIG = 78  # sysexits EX_CONFIG: runner.toml is wrong, not the command's input
SHOWN_DESPITE_BAD_SETTINGS = {"status", "doctor"}  # a broken runner.toml must not hide them
READ_ONLY = {"status", "list", "logs", "report", "queue", "doctor", "show"}  # never create state


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(root_option(sys.argv[1:] if argv is None else argv))
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
        if args.command not in SHOWN_DESPITE_BAD_SETTINGS:
            return EXIT_CONFIG
        print("claude-runner: showing the rest with the built-in defaults", file=sys.stderr)
        settings, broken = Settings(), True
    else:
        broken = False
    try:
        if args.command == "run":
            from pipeline.execution.procgroup import go_private

            go_private()  # the daemon's folders and files are private from the start
        if not _read_only(args) and args.command != "skill":  # skill needs no state
            layout.ensure()
        code = dispatch(args, layout, settings)
        return max(code, 1) if broken and args.command == "doctor" else code
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

    if args.command in ("run", "node"):
        return _serve(args, layout, settings)
    log.quiet()
    if settings.backend_kind == "postgres" and args.command in ("cancel", "clear"):
        from pipeline.postgres import cli as postgres_cli

        return getattr(postgres_cli, args.command)(layout, settings, args)
    return COMMANDS[args.command](args, layout, settings)


def _serve(args: argparse.Namespace, layout: Layout, settings) -> int:  # noqa: ANN001
    """The long-running commands: the daemon (`run`) and a postgres node (`node`)."""
    from pipeline import log

    if settings.backend_kind == "postgres":
        from pipeline.postgres import missing_extra

        if missing_extra():
            print(f"claude-runner: {missing_extra()}", file=sys.stderr)
            return 2
    if args.command == "node":
        from pipeline.postgres.cli import node

        log.setup(None)
        return node(layout, settings, args)
    from pipeline.daemon.daemon import Daemon

    log.setup(layout)
    return Daemon(layout, settings,
                  reload=lambda: load_settings(layout.root, flags=args.set)).serve()


Command = Callable[[argparse.Namespace, Layout, Settings], int]


def _queue_command(name: str) -> Command:
    """add, cancel, retry, clear, list, show, queue: pipeline/cli/queue.py's."""

    def run(args: argparse.Namespace, layout: Layout, settings: Settings) -> int:
        from pipeline.cli import queue as commands

        if name == "list_file":
            return commands.list_file(layout, args)
        return getattr(commands, name)(layout, settings, args)

    return run


def _schedule(args: argparse.Namespace, layout: Layout, settings: Settings) -> int:
    from pipeline.cli.schedule import schedule_command

    return schedule_command(layout, settings, args)


def _doctor(_args: argparse.Namespace, layout: Layout, settings: Settings) -> int:
    from pipeline.doctor.run import main as doctor

    return doctor(layout, settings)


def _pause_or_resume(args: argparse.Namespace, layout: Layout, settings: Settings) -> int:
    from pipeline.cli import pause
    from pipeline.cli.queue import event_log

    return getattr(pause, args.command)(layout, args, event_log(layout, settings))


def _skill(args: argparse.Namespace, _layout: Layout, _settings: Settings) -> int:
    from pipeline.cli.skill import skill_install

    return skill_install(args.workspace)


def _web(args: argparse.Namespace, layout: Layout, settings: Settings) -> int:
    from pipeline.web.command import web_command

    return web_command(layout, settings, args)


def _init(args: argparse.Namespace, layout: Layout, _settings: Settings) -> int:
    from pipeline.cli.init import init_command

    return init_command(layout, args)


def _status(layout: Layout, settings, args: argparse.Namespace) -> int:  # noqa: ANN001
    from pipeline.cli.status import collect, read_queue, render
    from pipeline.cli.why import attention, render_attention, summary
    from pipeline.domain import clock
    from pipeline.storage.jsonfile import dumps
    from pipeline.storage.queue import TaskQueue

    now = clock.now()
    queued = read_queue(TaskQueue(layout, settings))  # read once for both
    status = collect(layout, settings, now, queued=queued)
    facts = attention(layout, settings, status, now, queued.tasks)
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
        running = queue.running_attempt()
        return args.follow and running is not None and running.id == args.id

    follow(layout.task_log(args.id), None, still_running,
           tail_offset(layout.task_log(args.id), args.lines))
    return 0


# every command but run/node, each importing its module only when it runs (start-up time)
COMMANDS: dict[str, Command] = {
    "add": _queue_command("add"), "cancel": _queue_command("cancel"),
    "retry": _queue_command("retry"), "clear": _queue_command("clear"),
    "list": _queue_command("list_file"), "show": _queue_command("show_task"),
    "queue": _queue_command("queue_check"),
    "status": lambda args, layout, settings: _status(layout, settings, args),
    "logs": lambda args, layout, settings: _logs(layout, settings, args),
    "report": lambda args, layout, settings: _report(layout, settings, args),
    "schedule": _schedule, "doctor": _doctor, "pause": _pause_or_resume,
    "resume": _pause_or_resume, "skill": _skill, "web": _web, "init": _init,
}
