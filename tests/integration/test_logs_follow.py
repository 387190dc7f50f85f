"""`logs ID -f` on a queued task waits for it to start and then follows it (pueue follow);
`logs -n N` starts from the last N lines."""

import subprocess
import sys

from helpers import REPO, cli, wait_for


def test_follow_waits_for_a_queued_task(root, daemon, tmp_path):
    daemon.start()
    assert cli(root, "pause").returncode == 0
    assert cli(root, "add", "hello from the queue", "--id", "later").returncode == 0
    errors = tmp_path / "follow-stderr.txt"
    with open(errors, "w") as stderr:
        follower = subprocess.Popen(
            [sys.executable, "-m", "pipeline", "--root", str(root), "logs", "later", "-f"],
            stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=REPO)
        try:
            wait_for(lambda: "waiting for later to start" in errors.read_text(),
                     message="the follower to wait")
            assert follower.poll() is None
            assert cli(root, "resume").returncode == 0
            output, _ = follower.communicate(timeout=30)
        finally:
            follower.kill()
    assert follower.returncode == 0
    assert "attempt 1" in output and "done: hello from the queue" in output


def test_logs_n_prints_the_last_lines(root):
    (root / "logs").mkdir(exist_ok=True)
    (root / "logs" / "runner.jsonl").write_text("".join(f"plain {n}\n" for n in range(100)))
    done = cli(root, "logs", "-n", "2")
    assert done.stdout.splitlines() == ["plain 98", "plain 99"]
    assert len(cli(root, "logs").stdout.splitlines()) == 50
