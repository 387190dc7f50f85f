"""Git facts of a workspace, expectChanges and verify (the review after the verdict)."""

import subprocess
from pathlib import Path

import pytest

from pipeline.agent.verdict import Verdict
from pipeline.domain.attempt import AttemptEnd, RunFacts, VerifyOutcome
from pipeline.domain.outcome import Outcome
from pipeline.execution import gitfacts
from pipeline.stages.review import review
from tests.support.model import attempt


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    git(tmp_path, "init", "-q")
    git(tmp_path, "config", "user.email", "t@example.com")
    git(tmp_path, "config", "user.name", "t")
    (tmp_path / "a.txt").write_text("one\n")
    git(tmp_path, "add", "a.txt")
    git(tmp_path, "commit", "-q", "-m", "start")
    return tmp_path


def test_parse_shortstat():
    assert gitfacts.parse_shortstat(" 3 files changed, 10 insertions(+), 2 deletions(-)\n") \
        == (3, 10, 2)
    assert gitfacts.parse_shortstat(" 1 file changed, 1 deletion(-)") == (1, 0, 1)
    assert gitfacts.parse_shortstat("") == (0, 0, 0)


def test_parse_subjects_oldest_first():
    assert gitfacts.parse_subjects("second\nfirst\n") == ["first", "second"]


def test_facts_name_the_commits_subjects(repo: Path):
    before = gitfacts.snapshot(repo)
    for name in ("Add b", "Add c"):
        (repo / name).write_text(name)
        git(repo, "add", name)
        git(repo, "commit", "-q", "-m", name)
    facts, _ = gitfacts.facts(repo, before)
    assert facts["commits"] == 2 and facts["subjects"] == ["Add b", "Add c"]


def test_facts_count_commits_and_working_tree_changes(repo: Path):
    before = gitfacts.snapshot(repo)
    assert before and before.head
    (repo / "b.txt").write_text("x\ny\n")
    git(repo, "add", "b.txt")
    git(repo, "commit", "-q", "-m", "b")
    (repo / "a.txt").write_text("one\ntwo\n")  # uncommitted
    facts, changed = gitfacts.facts(repo, before)
    assert changed
    assert facts["headBefore"] == before.head and facts["headAfter"] != before.head
    assert facts["commits"] == 1
    assert (facts["filesChanged"], facts["insertions"], facts["deletions"]) == (2, 3, 0)


def test_nothing_changed_and_a_dirty_tree_changed_further(repo: Path):
    (repo / "a.txt").write_text("dirty\n")
    before = gitfacts.snapshot(repo)
    assert gitfacts.facts(repo, before)[1] is False
    (repo / "a.txt").write_text("dirtier\n")  # same status line " M a.txt", other content
    assert gitfacts.facts(repo, before)[1] is True


def test_outside_a_repository_there_are_no_facts(tmp_path: Path):
    assert gitfacts.snapshot(tmp_path / "nowhere") is None
    plain = tmp_path / "plain"
    plain.mkdir()
    assert gitfacts.snapshot(plain) is None


GIT = {"headBefore": "a", "headAfter": "a", "commits": 0, "filesChanged": 0,
       "insertions": 0, "deletions": 0, "subjects": []}


def test_review_turns_a_success_without_changes_into_a_failure():
    entry = attempt(expectChanges=True)
    end = AttemptEnd(0, False, None, "", git=GIT, changed=False)
    verdict = review(entry, end, Verdict(Outcome.SUCCESS))
    assert verdict.outcome is Outcome.ERROR and verdict.error.startswith("no changes")
    assert verdict.retryable and verdict.feedback and verdict.fields.git == GIT
    assert review(attempt(expectChanges=False), end, Verdict(Outcome.SUCCESS)).outcome \
        is Outcome.SUCCESS
    changed = AttemptEnd(0, False, None, "", git=GIT, changed=True)
    assert review(entry, changed, Verdict(Outcome.SUCCESS)).outcome is Outcome.SUCCESS


def test_review_of_a_failed_verify_carries_its_output_tail():
    entry = attempt(verify=["pytest", "-q"])
    end = AttemptEnd(0, False, None, "", verify=VerifyOutcome(1, "1 failed: test_x"))
    verdict = review(entry, end, Verdict(Outcome.SUCCESS))
    assert verdict.outcome is Outcome.ERROR and "verify failed" in verdict.error
    assert "`pytest -q`" in verdict.feedback and "1 failed: test_x" in verdict.feedback
    passed = AttemptEnd(0, False, None, "", verify=VerifyOutcome(0, "ok"))
    assert review(entry, passed, Verdict(Outcome.SUCCESS)).outcome is Outcome.SUCCESS


def test_review_keeps_the_session_and_notes_a_fresh_answer_to_a_resume():
    entry = attempt(sessionId="s-1", sessionIds=["s-1", "s-1"], resumeSession="s-1")
    kept = review(entry, AttemptEnd(None, False, None, ""), Verdict(Outcome.INTERRUPTED))
    assert kept.fields.session_id == "s-1"
    other = review(entry, AttemptEnd(0, False, None, ""),
                   Verdict(Outcome.SUCCESS, fields=RunFacts(session_id="s-2")))
    assert other.fields.to_dict()["sessionIds"] == ["s-1", "s-2"]
    assert other.fields.resume_fallbacks == 1
