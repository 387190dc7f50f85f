"""`claude-runner pause [--until TIME] [--reason TEXT]` and `claude-runner resume`.

A pause by hand uses the same `pausedUntil` as a usage-limit pause, so the daemon, `status`
and every reader honour it alike; without `--until` it lasts until `resume`. `resume` also
lifts a usage-limit pause early: recorded in the events log as a manual override.
"""

from __future__ import annotations

from argparse import Namespace

from pipeline.cli.queue import EXIT_BAD_INPUT, EXIT_OK, fail
from pipeline.domain import clock
from pipeline.domain.clock import iso
from pipeline.domain.when import indefinitely, is_indefinite, parse_until
from pipeline.storage.events import EventKind, EventLog
from pipeline.storage.layout import Layout
from pipeline.storage.state import StateFile

MANUAL = "by hand"


def pause(layout: Layout, args: Namespace, events: EventLog) -> int:
    now = clock.now()
    try:
        until = parse_until(args.until, now) if args.until else indefinitely(now)
    except ValueError as error:
        return fail(f"--until {error}", EXIT_BAD_INPUT)
    reason = f"{MANUAL}: {args.reason}" if args.reason else MANUAL
    StateFile(layout).update(pausedUntil=iso(until), pauseReason=reason, pausedByHand=True)
    events.emit(EventKind.PAUSE_START, until=iso(until), reason=reason, manual=True)
    shown = "until `claude-runner resume`" if is_indefinite(until, now) else f"until {iso(until)}"
    print(f"paused {shown}: no new run starts (a running task finishes)")
    return EXIT_OK


def resume(layout: Layout, _args: Namespace, events: EventLog) -> int:
    state = StateFile(layout)
    current = state.read()
    if not current.get("pausedUntil"):
        print("not paused")
        return EXIT_OK
    state.update(pausedUntil=None, pauseReason=None, pausedByHand=None)
    overridden = None if current.get("pausedByHand") else current.get("pauseReason")
    events.emit(EventKind.PAUSE_END, until=current.get("pausedUntil"), manual=True,
                override=overridden)
    print("resumed" + (f" (lifted the pause early: {overridden})" if overridden else ""))
    return EXIT_OK
