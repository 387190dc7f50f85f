"""No agent run is wasted: an interrupted attempt continues its session (`--resume`)."""

import json
import os
import re
import shutil
import signal
import sys
import time
from pathlib import Path

from helpers import (
    DaemonProcess,
    drop,
    parse_time,
    queue_tasks,
    record_of,
    running_task,
    state,
    task_log,
    wait_for,
    write_settings,
)

HEADER = re.compile(r"===== attempt \d+ at \S+: (.*)")


def argvs(root: Path, task_id: str) -> list[str]:
    """The argv of every attempt, from the task log's headers."""
    return HEADER.findall(task_log(root, task_id))


def session_of(argv: str) -> tuple[str, str]:
    """("--session-id" or "--resume", the id) of one attempt's argv."""
    found = re.search(r"(--session-id|--resume)=(\S+)", argv)
    assert found, argv
    return found.group(1), found.group(2)


def start_interruptible(root: Path, tmp_path: Path, task_id: str, extra: str = "") -> dict:
    """A task that sleeps on its first run only; returns running.json once the agent runs."""
    prompt = (f"Write the changelog\n@append {tmp_path / 'runs'}\n@save-prompt "
              f"{tmp_path / 'prompts'}\n@once {tmp_path / 'slept'} sleep 30{extra}")
    drop(root, f"{task_id}.json", {"prompt": prompt, "id": task_id})
    wait_for(lambda: (tmp_path / "slept").exists(), message=f"{task_id} sleeping")
    return wait_for(lambda: (e := running_task(root)).get("pid") and e, message="agent pid")


def restart_until_done(root: Path, task_id: str) -> dict:
    """A new daemon on the same root, until the task succeeded; its record."""
    restarted = DaemonProcess(root).start()
    try:
        record = wait_for(lambda: record_of(root, task_id), timeout=20,
                          message=f"{task_id} done")
    finally:
        restarted.stop()
    assert record["status"] == "success", restarted.output()
    return record


def prompts(tmp_path: Path) -> list[str]:
    return (tmp_path / "prompts").read_text().split("\n=====\n")[:-1]


def test_pm2_style_sigint_then_restart_resumes_the_same_session(root, daemon, tmp_path):
    daemon.start()
    entry = start_interruptible(root, tmp_path, "job")
    session = entry["sessionId"]
    assert re.fullmatch(r"[0-9a-f-]{36}", session), "a runner-generated uuid, before spawn"
    os.kill(entry["pid"], signal.SIGINT)  # PM2 signals every descendant, the agent too
    daemon.signal(signal.SIGINT)
    assert daemon.wait(timeout=10) == 0
    assert queue_tasks(root)[0]["resumeSession"] == session

    record = restart_until_done(root, "job")
    first, second = argvs(root, "job")
    assert session_of(first) == ("--session-id", session)
    assert session_of(second) == ("--resume", session)
    continuation = prompts(tmp_path)[1]
    assert "interrupted (the runner was stopped or restarted)" in continuation
    assert "Write the changelog" in continuation  # the original prompt is carried
    assert record["resumes"] == 1 and record["sessionIds"] == [session, session]
    assert record["sessionId"] == session and record["attempts"] == 1
    assert "resumeSession" not in record and "resumeReason" not in record


def test_kill_9_recovery_resumes_the_same_session(root, daemon, tmp_path):
    daemon.start()
    entry = start_interruptible(root, tmp_path, "crashy")
    daemon.signal(signal.SIGKILL)
    daemon.wait(timeout=10)
    record = restart_until_done(root, "crashy")
    assert [session_of(a) for a in argvs(root, "crashy")] == [
        ("--session-id", entry["sessionId"]), ("--resume", entry["sessionId"])]
    assert "the runner stopped unexpectedly" in prompts(tmp_path)[1]
    assert record["attempts"] == 2 and record["resumes"] == 1


def test_a_vanished_session_falls_back_to_exactly_one_fresh_run(root, daemon, tmp_path,
                                                                fake_agent_sessions):
    daemon.start()
    entry = start_interruptible(root, tmp_path, "gone")
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=10) == 0
    shutil.rmtree(fake_agent_sessions)  # other HOME, deleted transcript: nothing to resume
    record = restart_until_done(root, "gone")
    runs = [session_of(a) for a in argvs(root, "gone")]
    assert runs[:2] == [("--session-id", entry["sessionId"]), ("--resume", entry["sessionId"])]
    assert len(runs) == 3 and runs[2][0] == "--session-id" and runs[2][1] != entry["sessionId"]
    assert "No conversation found" in task_log(root, "gone")
    assert record["resumeFallbacks"] == 1 and record["attempts"] == 1
    assert record["sessionId"] == runs[2][1]
    assert prompts(tmp_path)[-1].startswith("Write the changelog")  # fresh: the task's prompt


def test_idle_hang_is_ended_and_resumed_until_max_resumes_then_fresh(root, daemon, tmp_path):
    """Keep-alive events are not progress: the idle timeout still ends the run."""
    write_settings(root, "[runner]\nidle_timeout = 1\nmax_resumes = 1\nmax_retries = 3")
    daemon.start()
    once = tmp_path / "once"
    prompt = (f"@append {tmp_path / 'runs'}\n@once {once}-1 keepalive 30\n"
              f"@once {once}-2 sleep 30")
    drop(root, "hang.json", {"prompt": prompt, "id": "hang"})
    record = wait_for(lambda: record_of(root, "hang"), timeout=30, message="hang done")
    assert record["status"] == "success", daemon.output()
    runs = [session_of(a) for a in argvs(root, "hang")]
    assert [kind for kind, _ in runs] == ["--session-id", "--resume", "--session-id"]
    assert runs[1][1] == runs[0][1] and runs[2][1] != runs[0][1]  # max_resumes = 1: fresh
    assert record["attempts"] == 3 and record["resumes"] == 1
    assert record["sessionIds"] == [runs[0][1], runs[0][1], runs[2][1]]
    assert task_log(root, "hang").count("rate_limit_event") > 3


def test_usage_limit_mid_run_resumes_the_session_after_the_reset(root, daemon, tmp_path):
    """The limit is met again right after the reset: it pauses again, never a failure."""
    write_settings(root, "[runner]\nusage_limit_margin = 0")
    daemon.start()
    reset = int(time.time()) + 3
    limit = f"You've hit your session limit · resets 9am Claude AI usage limit reached|{reset}"
    prompt = (f"@append {tmp_path / 'runs'}\n@usage-limit-once {tmp_path / 'limit-1'} {limit}"
              f"\n@usage-limit-once {tmp_path / 'limit-2'} {limit}")
    drop(root, "limited.json", {"prompt": prompt, "id": "limited"})
    wait_for(lambda: state(root).get("pauseClass") == "session", message="pauseClass session")
    record = wait_for(lambda: record_of(root, "limited"), timeout=20, message="limited done")
    assert record["status"] == "success", daemon.output()
    runs = [session_of(a) for a in argvs(root, "limited")]
    assert runs == [("--session-id", runs[0][1])] + [("--resume", runs[0][1])] * 2
    assert record["resumes"] == 2 and record["attempts"] == 1
    events = (root / "logs" / "events.jsonl").read_text().splitlines()
    pauses = [json.loads(e) for e in events if '"pause_start"' in e]
    assert [p["pauseClass"] for p in pauses] == ["session", "session"]
    assert parse_time(record["startedAt"]) >= reset - 0.01


def git_workspace(tmp_path: Path) -> Path:
    import subprocess

    workspace = tmp_path / "repo"
    workspace.mkdir()
    for args in (["init", "-q"], ["config", "user.email", "t@example.com"],
                 ["config", "user.name", "t"], ["commit", "-q", "--allow-empty", "-m", "start"]):
        subprocess.run(["git", *args], cwd=workspace, check=True)
    return workspace


def test_expect_changes_in_a_git_workspace(root, daemon, tmp_path):
    workspace = git_workspace(tmp_path)
    daemon.start()
    drop(root, "jobs.json", {"list": [
        {"id": "commits", "prompt": "@commit notes.txt", "workspace": str(workspace),
         "expectChanges": True},
        {"id": "idle", "prompt": "nothing to do", "workspace": str(workspace),
         "expectChanges": True, "maxRetries": 0},
    ]})
    done = wait_for(lambda: record_of(root, "commits"), message="commits done")
    assert done["status"] == "success", daemon.output()
    assert done["git"]["commits"] == 1 and done["git"]["filesChanged"] == 1
    assert done["git"]["headBefore"] != done["git"]["headAfter"]
    failed = wait_for(lambda: record_of(root, "idle"), message="idle done")
    assert failed["status"] == "failed" and failed["error"].startswith("no changes")
    assert failed["git"]["commits"] == 0 and failed["git"]["filesChanged"] == 0


def test_verify_failing_then_passing_with_its_output_fed_back(root, daemon, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    check = ("import os, sys; ok = os.path.exists('ok'); "
             "print('all good' if ok else 'verify says: missing ok'); sys.exit(0 if ok else 3)")
    daemon.start()
    drop(root, "v.json", {"id": "v", "workspace": str(workspace),
                          "prompt": f"@save-prompt {tmp_path / 'prompts'}\n@fix-if-told ok",
                          "verify": [sys.executable, "-c", check]})
    record = wait_for(lambda: record_of(root, "v"), message="v done")
    assert record["status"] == "success", daemon.output()
    assert record["attempts"] == 2 and record["resumes"] == 1
    assert "verify says: missing ok" in prompts(tmp_path)[1]
    assert "exited 3" in prompts(tmp_path)[1]
    log = task_log(root, "v")
    assert "verify exit code 3" in log and "verify exit code 0" in log
    assert "git" not in record  # not a repository


def test_permission_prompts_none_is_passed_when_the_cli_has_it(root, tmp_path):
    daemon = DaemonProcess(root, env={"FAKE_AGENT_PERMISSION_PROMPTS": "1"}).start()
    try:
        drop(root, "p.json", {"id": "p", "prompt": "hello"})
        record = wait_for(lambda: record_of(root, "p"), message="p done")
    finally:
        daemon.stop()
    assert record["status"] == "success"
    assert "--permission-prompts=none" in argvs(root, "p")[0]


def test_changes_made_before_an_interruption_count_for_the_resumed_attempt(root, daemon,
                                                                           tmp_path):
    """expectChanges and the git facts span the whole task, from its first attempt."""
    write_settings(root, "[runner]\nidle_timeout = 1")
    workspace = git_workspace(tmp_path)
    daemon.start()
    prompt = f"@once {tmp_path / 'm1'} commit a.txt\n@once {tmp_path / 'm2'} sleep 30"
    drop(root, "c.json", {"id": "c", "prompt": prompt, "workspace": str(workspace),
                          "expectChanges": True})
    record = wait_for(lambda: record_of(root, "c"), timeout=20, message="c done")
    assert record["status"] == "success", daemon.output()
    assert record["attempts"] == 2 and record["resumes"] == 1  # idle, then resumed
    assert record["git"]["commits"] == 1 and record["git"]["filesChanged"] == 1
    assert "gitBaseline" not in record


def test_a_stop_ends_a_running_verify_and_requeues_the_task(root, daemon, tmp_path):
    workspace = tmp_path / "ws"
    workspace.mkdir()
    slow = "import time; open('verifying', 'w').close(); time.sleep(30)"
    daemon.start()
    drop(root, "sv.json", {"id": "sv", "prompt": "hello", "workspace": str(workspace),
                           "verify": [sys.executable, "-c", slow]})
    wait_for(lambda: (workspace / "verifying").exists(), message="verify running")
    asked = time.monotonic()
    daemon.signal(signal.SIGTERM)
    assert daemon.wait(timeout=10) == 0
    assert time.monotonic() - asked < 1 + 5  # kill_grace + 5
    queued = queue_tasks(root)
    assert [t["id"] for t in queued] == ["sv"] and queued[0].get("attempts", 0) == 0
    assert record_of(root, "sv") is None


def test_a_model_limit_with_fallback_model_runs_on_it_at_once(root, daemon, tmp_path):
    write_settings(root, '[runner]\nfallback_model = "sonnet"')
    daemon.start()
    prompt = (f"@append {tmp_path / 'runs'}\n@usage-limit-once {tmp_path / 'limit'} "
              "You've hit your Opus limit · resets Dec 1, 9am (UTC)")
    drop(root, "m.json", {"id": "m", "prompt": prompt, "model": "opus"})
    record = wait_for(lambda: record_of(root, "m"), message="m done")
    assert record["status"] == "success", daemon.output()
    first, second = argvs(root, "m")
    ran = (tmp_path / "runs").read_text().splitlines()  # the fake agent's own argv, values too
    assert "--model=opus" in ran[0] and "--model=sonnet" in ran[1]
    assert session_of(second) == ("--resume", session_of(first)[1])
    assert record["fallbackModel"] == "sonnet" and record["attempts"] == 1
    assert "pausedUntil" not in state(root)
    events = (root / "logs" / "events.jsonl").read_text()
    assert '"model_fallback"' in events and '"pause_start"' not in events
