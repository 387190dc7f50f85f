"""The self-evolution loop's schedules, as `claude-runner init` writes them (pure).

Four hourly roles at staggered minutes - coach planning (:00), coach self-evolution (:15),
executor carrying out the plan (:30), executor self-evolution (:45) - and a daily
evaluation (00:20, after the daemon's daily report at `daily_report_at`, 00:05 by default)
that reads yesterday's report and writes `docs/evaluations/YYYY-MM-DD.md` in the workspace;
the coach's planning prompt reads the newest evaluation. Every prompt that adds work checks
the queue with the queue-manager skill first. Prompts use the placeholders of
`pipeline.scheduling.placeholders`, filled when a copy is enqueued.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pipeline.domain.schedule import schedule_entries

COACH, EXECUTOR, EVALUATOR = "ceo-coach", "opc-ceo-core", "ceo-coach"
EVALUATION_ID = "opc-evaluation"
LANGUAGES = ("en", "zh")

_QUEUE_TOOLS = ["Read", "Grep", "Glob", "Bash(claude-runner:*)", "Bash(git log:*)"]
_NOTE_TOOLS = ["Read", "Grep", "Glob", "Edit", "Write", "Bash(claude-runner:*)",
               "Bash(git log:*)"]
_WORK_TOOLS = ["Read", "Grep", "Glob", "Edit", "Write", "Bash"]

# id -> (name, role, cron, timeout ms, tools, kind)
_SHAPE: dict[str, tuple[str, str, str, int, list[str], str | None]] = {
    "opc-coach-planning": ("Coach: plan the next tasks", COACH, "0 * * * *", 1_200_000,
                           _QUEUE_TOOLS, None),
    "opc-coach-planning2": ("Coach: self-evolution", COACH, "15 * * * *", 900_000,
                            _NOTE_TOOLS, None),
    "opc-ceo-execution": ("Executor: carry out the plan", EXECUTOR, "30 * * * *", 1_800_000,
                          _WORK_TOOLS, None),
    "opc-ceo-execution2": ("Executor: self-evolution", EXECUTOR, "45 * * * *", 900_000,
                           _NOTE_TOOLS, None),
    EVALUATION_ID: ("Daily evaluation", EVALUATOR, "20 0 * * *", 900_000, _NOTE_TOOLS,
                    "evaluation"),
}

_ADD = ('claude-runner add "PROMPT" --role opc-ceo-core --name NAME -w <WS> '
        '--tools Read,Grep,Glob,Edit,Write,Bash')

_EN = {
    "opc-coach-planning": (
        "You are ceo-coach. Today is {date}. Task: plan the executor's next work for this "
        "project. Read the plan <PLAN>, the latest evaluation {evaluation_path} and recent "
        "commits (`git log --oneline -20`); see what ran with the queue-manager skill "
        "(`claude-runner list completed -n 5 --json`, `claude-runner list failed -n 5 --json`). "
        "Before adding anything, check the queue with the skill: `claude-runner queue check "
        "--json` (the level was {queue_level} when this run was queued). If it exits 75 (full), "
        "stop without adding work. Otherwise add one to three concrete, self-contained tasks, "
        "each with: `" + _ADD + "`. Each task should end in a git commit."),
    "opc-coach-planning2": (
        "You are ceo-coach, reviewing your own planning (self-evolution). Today is {date}. "
        "Read the latest evaluation {evaluation_path} and, with the queue-manager skill, the "
        "latest completed and failed tasks. Write short, concrete lessons on what made tasks "
        "succeed or fail into docs/coach-playbook.md. Do not add tasks in this run."),
    "opc-ceo-execution": (
        "You are opc-ceo-core, the executor. Today is {date}. Task: carry out the most "
        "important unfinished item of the plan <PLAN>: make the change, run the tests, mark the "
        "item done in the plan and commit with a one-line message saying what improved. If it "
        "needs a follow-up, check the queue with the queue-manager skill (`claude-runner queue "
        "check --json`) and only when it does not exit 75 add one self-contained task: `"
        + _ADD + "`."),
    "opc-ceo-execution2": (
        "You are opc-ceo-core, reviewing your own runs (self-evolution). Today is {date}. With "
        "the queue-manager skill read the latest completed and failed opc-ceo-core tasks. Write "
        "recurring mistakes and what worked into docs/executor-notes.md, short and concrete. "
        "Do not add tasks in this run."),
    EVALUATION_ID: (
        "You are ceo-coach, writing today's evaluation. Read yesterday's report {report_path} "
        "(if it is missing, run `claude-runner report --date D` with D the date in that file's "
        "name). Its goals section "
        "shows the seed's four goals: uptime over 99 %, an evaluation every day, at least 2 "
        "optimisations a week, queue peaks held. Write docs/evaluations/{date}.md: each goal "
        "met or not and why, what went well, and the three most useful improvements to make "
        "next. The planning coach reads it. Do not add tasks in this run."),
}

_ZH = {
    "opc-coach-planning": (
        "你是 ceo-coach。今天是 {date}。任务：为执行者规划下一步工作。阅读计划 <PLAN>、最新评估 "
        "{evaluation_path} 和最近的提交（`git log --oneline -20`）；用 queue-manager 技能查看运行"
        "结果（`claude-runner list completed -n 5 --json`、"
        "`claude-runner list failed -n 5 --json`）。"
        "添加任务前先用技能检查队列：`claude-runner queue check --json`（入队时水位为 "
        "{queue_level}）。如果退出码是 75（队列已满），停止，不要添加任务。否则添加一到三个具体、"
        "独立的任务，每个用：`" + _ADD + "`。每个任务都应以一次 git 提交结束。"),
    "opc-coach-planning2": (
        "你是 ceo-coach。今天是 {date}。任务：自我进化——复盘你的规划。阅读最新评估 "
        "{evaluation_path}，并用 queue-manager 技能查看最近完成和失败的任务。把任务成败的原因写成"
        "简短、具体的经验，记入 docs/coach-playbook.md。本次不要添加任务。"),
    "opc-ceo-execution": (
        "你是 opc-ceo-core（执行者）。今天是 {date}。任务：完成计划 <PLAN> 中最重要的未完成项："
        "修改代码、运行测试、在计划中标记完成，并用一行说明改进内容的信息 git 提交。如需后续工作，"
        "先用 queue-manager 技能检查队列（`claude-runner queue check --json`），只有退出码不是 75 "
        "时才添加一个独立的任务：`" + _ADD + "`。"),
    "opc-ceo-execution2": (
        "你是 opc-ceo-core。今天是 {date}。任务：自我进化——复盘你自己的运行。用 queue-manager "
        "技能查看最近完成和失败的 opc-ceo-core 任务，把反复出现的错误和有效做法简短、具体地写入 "
        "docs/executor-notes.md。本次不要添加任务。"),
    EVALUATION_ID: (
        "你是 ceo-coach。任务：写今天的评估。阅读昨天的报告 {report_path}（如不存在，运行 "
        "`claude-runner report --date D` 生成昨天的报告，D 为该文件名中的日期）。"
        "报告的目标部分列出四个目标：可用率超过 "
        "99 %、每天一份评估、每周至少 2 次优化、队列峰值受控。写入 docs/evaluations/{date}.md："
        "每个目标是否达成及原因、做得好的地方、下一步最有价值的三项改进。规划教练会阅读它。"
        "本次不要添加任务。"),
}

PLAN_TEMPLATE = {
    "en": "# Plan\n\nThe executor (opc-ceo-core) carries out the most important unfinished item "
          "every hour and ticks it off; the coach (ceo-coach) adds items.\n\n"
          "## Open\n\n- [ ] Describe the first improvement here.\n\n## Done\n",
    "zh": "# 计划\n\n执行者（opc-ceo-core）每小时完成最重要的未完成项并勾选；教练（ceo-coach）"
          "添加新项。\n\n## 待办\n\n- [ ] 在这里写下第一项改进。\n\n## 已完成\n",
}


def loop_schedules(workspace: str, plan: str, lang: str, enabled: bool) -> list[dict[str, Any]]:
    """The five schedules for `workspace` (absolute), its plan file and language."""
    prompts = _ZH if lang == "zh" else _EN
    schedules = []
    for schedule_id, (name, role, cron, timeout, tools, kind) in _SHAPE.items():
        prompt = prompts[schedule_id].replace("<PLAN>", _literal(plan))
        prompt = prompt.replace("<WS>", _literal(workspace))
        schedule: dict[str, Any] = {
            "id": schedule_id, "name": name, "role": role, "cron": cron, "enabled": enabled,
            "workspace": workspace, "prompt": prompt,
            "timeout": timeout, "allowedTools": list(tools),
        }
        if kind:
            schedule["kind"] = kind
        schedules.append(schedule)
    return schedules


def _literal(text: str) -> str:
    """A path inside a prompt: its braces escaped, so they are not read as placeholders."""
    return text.replace("{", "{{").replace("}", "}}")


RUNNER_FIELDS = frozenset({"lastRun", "nextRun", "lastSkip", "skipCount", "error"})


@dataclass
class Merge:
    """What `merge` did, id by id; with conflicts and no force, nothing was changed."""

    added: list[str] = field(default_factory=list)
    enabled: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)


def _comparable(schedule: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in schedule.items() if k not in RUNNER_FIELDS and k != "enabled"}


def merge(existing: list[Any], wanted: list[dict[str, Any]], force: bool) -> Merge:
    """Merge `wanted` into `existing` (scheduled.json's `tasks` list, as written) in place.
    A schedule that is already there as written is left alone (only switched on when
    `wanted` enables it); one that differs is a conflict, replaced only with `force`
    (keeping it switched on if it was)."""
    result = Merge()
    entries = schedule_entries(existing)
    by_id = {s.id: i for i, s in enumerate(entries) if s is not None and s.id is not None}
    changes: list[tuple[int | None, dict[str, Any]]] = []
    for schedule in wanted:
        position = by_id.get(schedule["id"])
        if position is None:
            result.added.append(schedule["id"])
            changes.append((None, schedule))
            continue
        current = entries[position]
        assert current is not None
        if _comparable(current.to_dict()) != _comparable(schedule):
            result.conflicts.append(schedule["id"])
            on = schedule["enabled"] or current.enabled_as_written is True
            changes.append((position, {**schedule, "enabled": on}))
        elif schedule["enabled"] and current.enabled_as_written is not True:
            result.enabled.append(schedule["id"])
            changes.append((position, {**existing[position], "enabled": True}))
        else:
            result.unchanged.append(schedule["id"])
    if result.conflicts and not force:
        return result
    for position, schedule in changes:
        if position is None:
            existing.append(schedule)
        else:
            existing[position] = schedule
    if force:
        result.replaced, result.conflicts = result.conflicts, []
    return result
