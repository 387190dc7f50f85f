"""`claude-runner init`: the self-evolution loop set up in one command, without a daemon."""

import subprocess

from helpers import cli, read_json, write_json

LOOP_IDS = ["opc-coach-planning", "opc-coach-planning2", "opc-ceo-execution",
            "opc-ceo-execution2", "opc-evaluation"]


def schedules(root):
    return read_json(root / "tasks" / "scheduled.json")["tasks"]


def make_workspace(tmp_path):
    workspace = tmp_path / "project"
    workspace.mkdir()
    subprocess.run(["git", "init", "-q", str(workspace)], check=True)
    return workspace


def test_fresh_init_writes_the_loop_skill_and_plan(root, tmp_path):
    workspace = make_workspace(tmp_path)
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "mine", "cron": "@daily", "prompt": "keep me", "custom": 1}]})
    done = cli(root, "init", "--workspace", str(workspace))
    assert done.returncode == 0, done.stderr
    found = schedules(root)
    assert found[0] == {"id": "mine", "cron": "@daily", "prompt": "keep me", "custom": 1}
    loop = {s["id"]: s for s in found[1:]}
    assert list(loop) == LOOP_IDS
    assert {loop[i]["role"] for i in LOOP_IDS[:2]} == {"ceo-coach"}
    assert {loop[i]["role"] for i in LOOP_IDS[2:4]} == {"opc-ceo-core"}
    minutes = [loop[i]["cron"].split()[0] for i in LOOP_IDS[:4]]
    assert len(set(minutes)) == 4 and all(loop[i]["cron"].split()[1] == "*"
                                          for i in LOOP_IDS[:4])
    assert loop["opc-evaluation"]["cron"].split()[1] != "*"  # daily
    assert not any(s["enabled"] for s in loop.values())
    assert all(s["workspace"] == str(workspace.resolve()) for s in loop.values())
    planning = loop["opc-coach-planning"]["prompt"]
    assert "queue check" in planning and "--role opc-ceo-core" in planning
    assert "{evaluation_path}" in planning
    assert "docs/evaluations/{date}.md" in loop["opc-evaluation"]["prompt"]
    skill = workspace / ".claude" / "skills" / "queue-manager" / "SKILL.md"
    assert "queue check" in skill.read_text(encoding="utf-8")
    assert (workspace / "docs" / "plan.md").is_file()
    assert "--enable" in done.stdout and " run" in done.stdout
    listing = cli(root, "schedule", "list")
    assert "ERROR" not in listing.stdout


def test_rerun_is_idempotent_and_enable_switches_on(root, tmp_path):
    workspace = make_workspace(tmp_path)
    assert cli(root, "init", "-w", str(workspace)).returncode == 0
    first = (root / "tasks" / "scheduled.json").read_bytes()
    (workspace / "docs" / "plan.md").write_text("my plan\n", encoding="utf-8")
    again = cli(root, "init", "-w", str(workspace))
    assert again.returncode == 0 and "unchanged" in again.stdout
    assert (root / "tasks" / "scheduled.json").read_bytes() == first
    assert (workspace / "docs" / "plan.md").read_text(encoding="utf-8") == "my plan\n"
    assert cli(root, "init", "-w", str(workspace), "--enable").returncode == 0
    assert all(s["enabled"] is True for s in schedules(root))


def test_refuses_to_clobber_a_changed_schedule_unless_forced(root, tmp_path):
    workspace = make_workspace(tmp_path)
    assert cli(root, "init", "-w", str(workspace), "--enable").returncode == 0
    data = read_json(root / "tasks" / "scheduled.json")
    data["tasks"][2]["prompt"] = "my own executor prompt"
    data["tasks"][2]["lastRun"] = "2026-11-28T10:30:00+00:00"
    write_json(root / "tasks" / "scheduled.json", data)
    before = (root / "tasks" / "scheduled.json").read_bytes()
    refused = cli(root, "init", "-w", str(workspace), "--lang", "zh")
    assert refused.returncode == 1
    assert "opc-ceo-execution" in refused.stderr and "--force" in refused.stderr
    assert (root / "tasks" / "scheduled.json").read_bytes() == before
    forced = cli(root, "init", "-w", str(workspace), "--lang", "zh", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "replaced" in forced.stdout
    after = {s["id"]: s for s in schedules(root)}
    assert after["opc-ceo-execution"]["prompt"].startswith("你是 opc-ceo-core")
    assert all(s["enabled"] is True for s in after.values())  # kept switched on


def test_chinese_prompts_and_a_named_plan(root, tmp_path):
    workspace = make_workspace(tmp_path)
    done = cli(root, "init", "-w", str(workspace), "--lang", "zh", "--plan", "PLAN.md")
    assert done.returncode == 0, done.stderr
    loop = {s["id"]: s for s in schedules(root)}
    planning = loop["opc-coach-planning"]["prompt"]
    assert planning.startswith("你是 ceo-coach。") and "任务：" in planning
    assert "queue check" in planning and "75" in planning and "PLAN.md" in planning
    assert "PLAN.md" in loop["opc-ceo-execution"]["prompt"]
    assert (workspace / "PLAN.md").read_text(encoding="utf-8").startswith("# 计划")
    assert not (workspace / "docs" / "plan.md").exists()


def test_bad_workspace_changes_nothing(root, tmp_path):
    done = cli(root, "init", "-w", str(tmp_path / "missing"))
    assert done.returncode == 2
    assert not (root / "tasks" / "scheduled.json").exists()
