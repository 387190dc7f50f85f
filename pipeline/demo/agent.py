"""The demo's stand-in agent: plays each role of the loop without a model.

Started by the runner like any agent (the custom preset), the prompt on stdin, the
workspace as its working folder. It recognises the loop's prompts (as `claude-runner init`
writes them, English or Chinese) and does what a real agent would be asked to, using the
same commands the queue-manager skill teaches:

* coach planning - `claude-runner queue check --json`, then, unless the queue is full (exit
  75), `claude-runner add ... --role opc-ceo-core` for two small improvements;
* executor - changes a file and commits it (the plan's first open item, or the task asked);
* self-evolution - appends a lesson to the role's notes file;
* evaluation - writes docs/evaluations/YYYY-MM-DD.md from the day's report.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

IMPROVEMENTS = ("Add a usage example to README.md", "Note the test command in README.md")


def runner(*args: str) -> subprocess.CompletedProcess:
    """The `claude-runner` command (the root comes from CLAUDE_RUNNER_ROOT)."""
    return subprocess.run([sys.executable, "-m", "pipeline", *args], capture_output=True,
                          text=True, timeout=60)


def git(*args: str) -> None:
    subprocess.run(["git", *args], check=True, capture_output=True, timeout=60)


def plan_coach(workspace: Path) -> None:
    check = runner("queue", "check", "--json")
    print(f"$ claude-runner queue check --json -> exit {check.returncode} {check.stdout.strip()}")
    if check.returncode == 75:
        print("the queue is full: adding nothing")
        return
    for index, prompt in enumerate(IMPROVEMENTS, 1):
        added = runner("add", prompt, "--role", "opc-ceo-core", "--name", f"improve-{index}",
                       "-w", str(workspace))
        print(f"$ claude-runner add {prompt!r} --role opc-ceo-core -> exit {added.returncode}")


def execute(prompt: str, workspace: Path) -> None:
    asked = next((item for item in IMPROVEMENTS if item in prompt), None)
    if asked:
        target = workspace / "README.md"
        subject = asked
    else:  # the hourly executor: the plan's first open item
        target = next(workspace.glob("docs/plan.md"), workspace / "docs" / "plan.md")
        text = target.read_text(encoding="utf-8") if target.exists() else ""
        item = re.search(r"- \[ \] (.+)", text)
        subject = f"Plan: {item[1] if item else 'tidy up'}"
        if item:
            target.write_text(text.replace(item[0], f"- [x] {item[1]}", 1), encoding="utf-8")
    with target.open("a", encoding="utf-8") as out:
        out.write(f"\n<!-- {subject} -->\n")
    git("add", str(target))
    git("commit", "-qm", subject)
    print(f"committed: {subject}")


def reflect(prompt: str, workspace: Path) -> None:
    name = re.search(r"docs/[\w-]+\.md", prompt)
    notes = workspace / (name[0] if name else "docs/notes.md")
    notes.parent.mkdir(parents=True, exist_ok=True)
    with notes.open("a", encoding="utf-8") as out:
        out.write("- Small, self-contained tasks that end in a commit succeed.\n")
    print(f"noted a lesson in {notes.relative_to(workspace)}")


def evaluate(prompt: str, workspace: Path) -> None:
    path = re.search(r"docs/evaluations/\d{4}-\d{2}-\d{2}\.md", prompt)
    target = workspace / (path[0] if path else "docs/evaluations/today.md")
    report = runner("report", "--format", "json")
    goals = json.loads(report.stdout).get("goals", {}) if report.returncode == 0 else {}
    lines = ["# Evaluation", ""]
    lines += [f"- {key}: {'met' if goal.get('met') else 'not met'} (value {goal.get('value')})"
              for key, goal in goals.items()]
    lines += ["", "Next: keep tasks small; two optimisations a week is the floor.", ""]
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines), encoding="utf-8")
    print(f"wrote {target.relative_to(workspace)}")


def main() -> int:
    prompt = sys.stdin.read()
    workspace = Path.cwd()
    if "writing today's evaluation" in prompt or "写今天的评估" in prompt:
        evaluate(prompt, workspace)
    elif "self-evolution" in prompt or "自我进化" in prompt:
        reflect(prompt, workspace)
    elif "Task: plan the executor" in prompt or "任务：为执行者规划" in prompt:
        plan_coach(workspace)
    else:
        execute(prompt, workspace)
    return 0


if __name__ == "__main__":
    sys.exit(main())
