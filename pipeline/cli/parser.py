"""The command line's grammar: every subcommand, option and help text (no command runs here)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


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
    _queue_parsers(sub)
    _schedule_parser(sub)
    _operating_parsers(sub)
    _init_parser(sub)
    _demo_and_node_parsers(sub)
    return parser


def _queue_parsers(sub: argparse._SubParsersAction) -> None:
    """Looking at the queue and changing it: status, list, queue check, cancel, retry, clear."""
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


def _operating_parsers(sub: argparse._SubParsersAction) -> None:
    """skill, report, doctor, logs, pause, resume, show, web."""
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


def _demo_and_node_parsers(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="the whole loop with a stand-in agent in a temp folder")
    demo.add_argument("--dir", help="a new or empty folder to run it in (default: a temp one)")
    demo.add_argument("--lang", choices=["en", "zh"], default="en",
                      help="the prompts' language (default en)")
    node = sub.add_parser("node", help="a worker node of the postgres backend")
    node.add_argument("--account", required=True, help="the agent account this node uses")
    node.add_argument("--slots", type=int, default=1, help="agents run at once (default 1)")
    node.add_argument("--name", help="node name (default: <host>-<account>)")


def _init_parser(sub: argparse._SubParsersAction) -> None:
    init = sub.add_parser("init", help="set up the self-evolution loop for a project")
    init.add_argument("--workspace", "-w", required=True, help="the project's folder")
    init.add_argument("--lang", choices=["en", "zh"], default="en", help="prompt language")
    init.add_argument("--plan", help="the plan file, relative to the workspace "
                                     "(default docs/plan.md)")
    init.add_argument("--enable", action="store_true", help="switch the schedules on")
    init.add_argument("--force", action="store_true",
                      help="replace loop schedules that were changed")


def root_option(argv: Sequence[str]) -> list[str]:
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
