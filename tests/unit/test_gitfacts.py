"""The record's git facts: the parsers, and the facts of a real temporary repository."""

import subprocess

from pipeline.execution import gitfacts


def git(workspace, *args):
    subprocess.run(["git", "-C", str(workspace), "-c", "user.name=t", "-c", "user.email=t@t",
                    *args], check=True, capture_output=True)


def test_parse_shortstat():
    assert gitfacts.parse_shortstat(" 3 files changed, 10 insertions(+), 2 deletions(-)\n") \
        == (3, 10, 2)
    assert gitfacts.parse_shortstat(" 1 file changed, 1 deletion(-)") == (1, 0, 1)
    assert gitfacts.parse_shortstat("") == (0, 0, 0)


def test_parse_subjects_oldest_first():
    assert gitfacts.parse_subjects("second\nfirst\n") == ["first", "second"]


def test_facts_of_a_task_that_committed(tmp_path):
    git(tmp_path, "init", "-q")
    task = {"id": "t"}
    gitfacts.mark_start(task, tmp_path)
    assert task[gitfacts.MARK] == gitfacts.NO_COMMIT  # a repository without commits
    (tmp_path / "a.txt").write_text("one\ntwo\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-qm", "Add a")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "commit", "-qam", "Trim a")
    facts = gitfacts.record_fields(task, tmp_path)["git"]
    assert facts["headBefore"] is None and len(facts["headAfter"]) == 40
    assert facts["commits"] == 2 and facts["subjects"] == ["Add a", "Trim a"]
    assert (facts["filesChanged"], facts["insertions"], facts["deletions"]) == (1, 1, 0)
    again = {"id": "u"}
    gitfacts.mark_start(again, tmp_path)
    assert gitfacts.record_fields(again, tmp_path)["git"]["commits"] == 0


def test_no_facts_outside_git(tmp_path):
    task = {"id": "t"}
    gitfacts.mark_start(task, tmp_path)
    assert gitfacts.MARK not in task and gitfacts.record_fields(task, tmp_path) == {}
