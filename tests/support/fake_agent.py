#!/usr/bin/env python3
"""A stand-in for `claude -p --output-format json`, driven by directives in the prompt.

Each prompt line starting with `@` is a directive, run in order:
  @append FILE          append "<cwd> <argv>" to FILE (counts runs)
  @sleep SECONDS        sleep
  @flaky FILE N         fail until this is the N-th run (counter kept in FILE)
  @fail                 exit 1 with an is_error result
  @subtype NAME         fail with that result subtype (e.g. error_max_turns)
  @exit CODE            exit with CODE and print nothing
  @silent               exit 0 and print nothing (Claude Code on SIGINT)
  @ignore-term FILE     ignore SIGTERM, start a grandchild that ignores it too,
                        write both pids to FILE, then sleep for ever
  @usage-limit TEXT     print TEXT as the error result and exit 1
  @deny TOOL            succeed, but report a permission denial for TOOL
  @echo-env NAME FILE   write the value of $NAME (or <unset>) to FILE
  @wait-for FILE        wait until FILE exists (at most 60 s)
  @wait FILE [SECONDS]  block until FILE exists (at most SECONDS, default 60), to hold a
                        task running until the test releases it
  @once FILE DIRECTIVE  run DIRECTIVE (e.g. `sleep 30`) only if FILE does not exist yet,
                        creating FILE first (one-shot across runs)
  @usage-limit-once FILE TEXT   `@usage-limit TEXT`, but only on the first run
  @orphan FILE          double-fork a grandchild in its own session that ignores SIGINT,
                        SIGTERM and SIGHUP and sleeps for ever; append its pid to FILE
Otherwise it prints a success result whose `result` echoes the prompt.
"""

import json
import os
import signal
import subprocess
import sys
import time


def result(text, is_error=False, subtype="success", **extra):
    payload = {"type": "result", "subtype": subtype, "is_error": is_error, "result": text,
               "session_id": "fake-session-1", "num_turns": 1, "total_cost_usd": 0.0123,
               "duration_ms": 5, "permission_denials": [], **extra}
    print(json.dumps(payload, ensure_ascii=False))


def ignore_term(pid_file):
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    child = subprocess.Popen([sys.executable, "-c",
                              "import signal,time; signal.signal(signal.SIGTERM, signal.SIG_IGN);"
                              " time.sleep(3600)"])
    with open(pid_file, "w") as handle:
        handle.write(f"{os.getpid()} {child.pid}\n")
    time.sleep(3600)


def flaky(counter_file, needed):
    count = 1
    if os.path.exists(counter_file):
        with open(counter_file) as handle:
            count = int(handle.read()) + 1
    with open(counter_file, "w") as handle:
        handle.write(str(count))
    if count < int(needed):
        result(f"flaky failure {count}", is_error=True)
        sys.exit(1)


def directive(word, rest):
    args = rest.split()
    if word == "append":
        with open(args[0], "a") as handle:
            handle.write(f"{os.getcwd()} {' '.join(sys.argv[1:])}\n")
    elif word == "sleep":
        time.sleep(float(args[0]))
    elif word == "flaky":
        flaky(args[0], args[1])
    elif word == "fail":
        result("it went wrong", is_error=True)
        sys.exit(1)
    elif word == "subtype":
        print(json.dumps({"type": "result", "subtype": args[0], "is_error": True,
                          "errors": ["limit hit"]}))
        sys.exit(1)
    elif word == "exit":
        sys.exit(int(args[0]))
    elif word == "silent":
        sys.exit(0)
    elif word == "ignore-term":
        ignore_term(args[0])
    elif word == "usage-limit":
        result(rest, is_error=True)
        sys.exit(1)
    elif word == "deny":
        result("did nothing", permission_denials=[{"tool_name": args[0], "tool_input": {}}])
        sys.exit(0)
    elif word == "echo-env":
        with open(args[1], "w") as handle:
            handle.write(os.environ.get(args[0], "<unset>"))
    elif word in ("wait", "wait-for"):
        deadline = time.monotonic() + (float(args[1]) if len(args) > 1 else 60.0)
        while not os.path.exists(args[0]) and time.monotonic() < deadline:
            time.sleep(0.01)
    elif word == "once":
        once(args[0], rest.split(None, 1)[1] if len(args) > 1 else "")
    elif word == "orphan":
        orphan(args[0])
    elif word == "usage-limit-once":
        once(args[0], "usage-limit " + (rest.split(None, 1)[1] if len(args) > 1 else ""))


def orphan(pid_file):
    """What a background process started by a tool does: escape the agent's group."""
    read, write = os.pipe()
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                signal.signal(sig, signal.SIG_IGN)
            with open(pid_file, "a") as handle:
                handle.write(f"{os.getpid()}\n")
            os.write(write, b"x")
            os.closerange(0, 3)
            time.sleep(3600)
        os._exit(0)
    os.read(read, 1)
    os.close(read)
    os.close(write)


def once(marker, line):
    """Run the directive `line` only the first time (FILE created atomically first)."""
    try:
        os.close(os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY))
    except FileExistsError:
        return
    word, _, rest = line.partition(" ")
    directive(word, rest)


def main():
    prompt = sys.stdin.read()
    for line in prompt.splitlines():
        if not line.startswith("@"):
            continue
        word, _, rest = line[1:].partition(" ")
        directive(word, rest)
    result(f"done: {prompt.strip()[:200]}")


if __name__ == "__main__":
    main()
