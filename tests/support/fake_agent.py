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
  @run ARGV...          run a command (shlex-split, found on PATH, no shell); if it
                        fails, fail with its exit code and output
  @save-prompt FILE     append the whole prompt and a line "=====" to FILE
  @work FILE SECONDS    do SECONDS of "work" in 0.1 s steps, kept in the session (a resumed
                        session continues where it stopped); one line per step done is
                        appended to FILE
  @keepalive SECONDS    print non-progress stream events (rate_limit_event, allowed) every
                        0.1 s for SECONDS
  @stream-deny TOOL     stream a tool_use of TOOL and its denied tool_result, then succeed
                        with an empty permission_denials
  @touch NAME           create NAME in the working directory
  @commit NAME          create NAME and `git commit` it in the working directory
  @fix-if-told NAME     create NAME only if the prompt says "missing NAME" (runner feedback)
  @new-session          when resumed, answer under a fresh session id (as a CLI may)
  @orphan FILE          double-fork a grandchild in its own session that ignores SIGINT,
                        SIGTERM and SIGHUP and sleeps for ever; append its pid to FILE
Otherwise it prints a success result whose `result` echoes the prompt.

Sessions, as Claude Code keeps them: `--session-id ID` starts session ID, `--resume ID`
continues it or fails with "No conversation found with session ID: ID" (exit 1); they are
files in $FAKE_AGENT_SESSIONS (default: a folder in the temp dir). With `--output-format
stream-json` it prints a system/init event first and an assistant event per step.
SIGINT ends it with exit 0 and no output, as Claude Code does.
"""

import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import time
import uuid

SESSION = {"id": "fake-session-1", "file": None, "data": {"prompts": [], "work": 0.0},
           "stream": "stream-json" in sys.argv, "resumed": False}


def flag(name):
    """A flag's value, given as `--name value` or `--name=value`."""
    for index, part in enumerate(sys.argv):
        if part.startswith(f"{name}="):
            return part.split("=", 1)[1]
        if part == name and index + 1 < len(sys.argv):
            return sys.argv[index + 1]
    return None


def emit(event):
    print(json.dumps(event, ensure_ascii=False), flush=True)


def open_session(prompt):
    folder = os.environ.get("FAKE_AGENT_SESSIONS") or os.path.join(
        tempfile.gettempdir(), f"fake-agent-sessions-{os.getuid()}")
    os.makedirs(folder, exist_ok=True)
    resume, given = flag("--resume"), flag("--session-id")
    session_id = resume or given or f"fake-{uuid.uuid4()}"
    path = os.path.join(folder, f"{session_id}.json")
    if resume:
        if not os.path.exists(path):
            print(f"No conversation found with session ID: {resume}", file=sys.stderr)
            sys.exit(1)
        with open(path) as handle:
            SESSION["data"] = json.load(handle)
        SESSION["resumed"] = True
    SESSION.update(id=session_id, file=path)
    SESSION["data"]["prompts"].append(prompt)
    save_session()
    if SESSION["stream"]:
        emit({"type": "system", "subtype": "init", "session_id": session_id})


def save_session():
    with open(SESSION["file"] + ".tmp", "w") as handle:
        json.dump(SESSION["data"], handle)
    os.replace(SESSION["file"] + ".tmp", SESSION["file"])


def result(text, is_error=False, subtype="success", **extra):
    payload = {"type": "result", "subtype": subtype, "is_error": is_error, "result": text,
               "session_id": SESSION["id"], "num_turns": 1, "total_cost_usd": 0.0123,
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
    elif word == "run":
        run(shlex.split(rest))
    elif word == "once":
        once(args[0], rest.split(None, 1)[1] if len(args) > 1 else "")
    elif word == "orphan":
        orphan(args[0])
    elif word == "usage-limit-once":
        once(args[0], "usage-limit " + (rest.split(None, 1)[1] if len(args) > 1 else ""))
    elif word == "save-prompt":
        with open(args[0], "a") as handle:
            handle.write(PROMPT + "\n=====\n")
    elif word == "work":
        work(args[0], float(args[1]))
    elif word == "keepalive":
        deadline = time.monotonic() + float(args[0])
        while time.monotonic() < deadline:
            emit({"type": "rate_limit_event", "rate_limit_info": {
                "status": "allowed", "overageStatus": "rejected"}})
            time.sleep(0.1)
    elif word == "stream-deny":
        stream_deny(args[0])
    elif word == "touch":
        open(args[0], "a").close()
    elif word == "commit":
        open(args[0], "a").close()
        for git in (["add", args[0]], ["commit", "-q", "-m", f"add {args[0]}"]):
            subprocess.run(["git", *git], check=True)
    elif word == "fix-if-told":
        if f"missing {args[0]}" in PROMPT:
            open(args[0], "a").close()
    elif word == "new-session" and SESSION["resumed"]:
        SESSION["id"] = f"fake-{uuid.uuid4()}"


def work(report_file, seconds):
    """Steps of 0.1 s kept in the session: a resumed session does only what is left."""
    while SESSION["data"]["work"] < seconds - 1e-9:
        time.sleep(0.1)
        SESSION["data"]["work"] = round(SESSION["data"]["work"] + 0.1, 3)
        save_session()
        with open(report_file, "a") as handle:
            handle.write(f"{SESSION['data']['work']}\n")
        if SESSION["stream"]:
            emit({"type": "assistant", "message": {"content": [{"type": "text", "text": "."}]}})


def stream_deny(tool):
    emit({"type": "assistant", "message": {"content": [
        {"type": "tool_use", "id": "toolu_1", "name": tool, "input": {}}]}})
    emit({"type": "user", "message": {"content": [
        {"type": "tool_result", "tool_use_id": "toolu_1", "is_error": True,
         "content": f"Claude requested permissions to use {tool}, but you haven't granted it "
                    "yet."}]}})


def run(argv):
    try:
        done = subprocess.run(argv, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    except OSError as error:
        result(f"{argv[0]}: {error}", is_error=True)
        sys.exit(1)
    if done.returncode != 0:
        result(f"{argv[0]} exited {done.returncode}: {done.stderr or done.stdout}",
               is_error=True)
        sys.exit(1)


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


def on_sigint(_signum, _frame):
    os._exit(0)


PROMPT = ""


def main():
    global PROMPT
    signal.signal(signal.SIGINT, on_sigint)
    prompt = PROMPT = sys.stdin.read()
    if "--help" in sys.argv:
        print("Usage: fake claude" + (" --permission-prompts <mode>"
                                      if os.environ.get("FAKE_AGENT_PERMISSION_PROMPTS") else ""))
        return
    open_session(prompt)
    for line in prompt.splitlines():
        if not line.startswith("@"):
            continue
        word, _, rest = line[1:].partition(" ")
        directive(word, rest)
    result(f"done: {prompt.strip()[:200]}")


if __name__ == "__main__":
    main()
