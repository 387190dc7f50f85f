"""The dashboard's parts without a server: history paging, file -> topic, the broadcast,
masking, words for crons and progress lines, and the command without the extra."""

from __future__ import annotations

import asyncio
from argparse import Namespace
from pathlib import Path

import orjson
import pytest

from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout
from pipeline.storage.queue import TaskQueue
from pipeline.web import command, history
from pipeline.web.live import Broadcast, topic_of
from pipeline.web.present import MASK, cron_words, progress_line, settings_rows, span


def write_day(layout: Layout, day: str, count: int, role: str = "executor") -> None:
    lines = [orjson.dumps({"id": f"{day}-{n:03d}", "status": "failed" if n % 4 == 0 else "success",
                           "role": role if n % 2 else "coach", "prompt": f"job {n} of {day}"})
             for n in range(count)]
    layout.history.mkdir(parents=True, exist_ok=True)
    (layout.history / f"{day}.jsonl").write_bytes(b"\n".join(lines) + b"\n")


@pytest.fixture
def layout(tmp_path: Path) -> Layout:
    layout = Layout(tmp_path)
    layout.ensure()
    write_day(layout, "2026-11-27", 80)
    write_day(layout, "2026-11-28", 40)
    return layout


def ids(page: history.HistoryPage) -> list[str]:
    return [r.id for r in page.records]


def test_history_pages_newest_first(layout: Layout) -> None:
    first = history.page(layout, history.HistoryQuery())
    assert ids(first)[:2] == ["2026-11-28-039", "2026-11-28-038"] and first.has_next
    assert len(first.records) == 50 and ids(first)[40] == "2026-11-27-079"
    last = history.page(layout, history.HistoryQuery(page=3))
    assert len(last.records) == 20 and not last.has_next
    assert ids(last)[-1] == "2026-11-27-000"


def test_history_filters(layout: Layout) -> None:
    failed = history.page(layout, history.HistoryQuery(status="failed", size=500))
    assert len(failed.records) == 20 + 10
    coach_day = history.page(layout, history.HistoryQuery(role="coach", day="2026-11-27",
                                                          size=500))
    assert len(coach_day.records) == 40
    text = history.page(layout, history.HistoryQuery(text="JOB 7 OF 2026-11-28"))
    assert ids(text) == ["2026-11-28-007"]
    assert history.page(layout, history.HistoryQuery(text="nothing like it")).records == []


def test_history_query_errors_name_the_field() -> None:
    errors = history.parse_query({"status": "meh", "day": "2026-02-30", "page": "-1"})
    assert [e.field for e in errors] == ["status", "day", "page"]
    assert history.parse_query({"text": " x ", "page": ""}) == history.HistoryQuery(text="x")


def test_find_task_looks_everywhere(layout: Layout) -> None:
    queue = TaskQueue(layout, Settings())
    found = history.find_task(layout, queue, "2026-11-27-003")
    assert found is not None and found.where == "history"
    layout.failed.write_bytes(orjson.dumps({"list": [{"id": "2026-11-27-003", "x": 1}]}))
    assert history.find_task(layout, queue, "2026-11-27-003").where == "failed"
    assert history.find_task(layout, queue, "../etc") is None
    assert history.find_task(layout, queue, "missing") is None


def test_topics_of_paths(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    cases = {layout.queue: "queue", layout.running: "running", layout.failed: "history",
             layout.history / "2026-11-28.jsonl": "history", layout.scheduled: "schedules",
             layout.state: "state", layout.inbox / "a.json": "inbox",
             layout.task_log("t-1"): "log:t-1", layout.events: "events",
             layout.tasks / "queue.json.lock": None, layout.tasks / ".queue.json.x.tmp": None,
             layout.runner_log: None, layout.heartbeats / "2026-11-28.log": None}
    for path, topic in cases.items():
        assert topic_of(layout, path) == topic, path


def test_a_burst_of_changes_is_one_message() -> None:
    async def scenario() -> list[list[str]]:
        broadcast = Broadcast()
        broadcast.loop = asyncio.get_running_loop()
        stream = broadcast.topics()
        first = asyncio.ensure_future(stream.__anext__())
        await asyncio.sleep(0)  # subscribed
        for topic in ("queue", "running", "queue"):
            broadcast.publish(topic)
        got = [await first]
        broadcast.publish("history")
        got.append(await stream.__anext__())
        await stream.aclose()
        return got

    assert asyncio.run(scenario()) == [["queue", "running"], ["history"]]


def test_settings_are_masked() -> None:
    settings = Settings(agent_env=(("ANTHROPIC_API_KEY", "sk-ant-secret"),),
                        hooks=(("on_task_done", ("notify", "https://hooks.example/T0/s3cret")),))
    rows = dict(settings_rows(settings))
    assert rows["agent_env"] == {"ANTHROPIC_API_KEY": MASK}
    assert rows["hooks"] == {"on_task_done": ["notify", "https://" + MASK]}
    assert "s3cret" not in repr(rows) and rows["daily_report_at"] == "00:05:00"


def test_cron_in_words() -> None:
    assert cron_words("0 * * * *") == "Every hour"
    assert cron_words("@daily") == "At 00:00"
    assert cron_words("not a cron") == "not a cron"


def test_progress_line_reads_stream_json() -> None:
    assistant = {"type": "assistant", "message": {"content": [
        {"type": "text", "text": "Reading\n the tests"}, {"type": "tool_use", "name": "Bash"}]}}
    text = "===== attempt 1\n" + orjson.dumps(assistant).decode() + "\n{\"type\": \"user\"}\n"
    assert progress_line(text) == "tool: Bash"
    assert progress_line("plain output\n\n") == "plain output"
    assert progress_line("") == ""


def test_move_to_head_never_re_adds(tmp_path: Path) -> None:
    layout = Layout(tmp_path)
    layout.ensure()
    queue = TaskQueue(layout, Settings())
    layout.queue.write_bytes(orjson.dumps({"list": [{"id": "a"}, {"id": "b"}]}))
    assert queue.move_to_head("b") and [t.id for t in queue.tasks()] == ["b", "a"]
    assert not queue.move_to_head("gone") and len(queue.tasks()) == 2


def test_web_without_the_extra_says_how_to_install(monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    monkeypatch.setattr(command, "missing_modules", lambda: ["starlette"])
    code = command.web_command(Layout(tmp_path), Settings(), Namespace(host=None, port=None))
    assert code == 2
    assert "pip install 'claude-runner[web]'" in capsys.readouterr().err


def test_spans() -> None:
    assert [span(v) for v in (None, 0.372, 3, 75, 7300, 90000)] == \
        ["-", "0.4 s", "3 s", "1 min 15 s", "2 h 1 min", "1 d 1 h"]


def test_the_token_is_made_once_and_kept_private(tmp_path: Path) -> None:
    from pipeline.web.security import load_token, token_path

    first = load_token(tmp_path, environ={})
    assert len(first) >= 32 and token_path(tmp_path).stat().st_mode & 0o777 == 0o600
    assert load_token(tmp_path, environ={}) == first
    assert load_token(tmp_path, environ={"CLAUDE_RUNNER_WEB_TOKEN": "from-env"}) == "from-env"


def test_lines_that_are_not_records_take_no_place_on_any_page(tmp_path: Path) -> None:
    """An earlier page is skipped without reading its records; what is not a record (a
    number, an object without a usable id) is skipped as well and never counted."""
    layout = Layout(tmp_path)
    layout.ensure()
    good = [orjson.dumps({"id": f"r{n:02d}", "prompt": "p", "status": "success"})
            for n in range(6)]
    junk = [b"7", b'{"prompt": "no id"}', b'{"id": "bad id!"}']
    lines = [good[0], junk[0], good[1], good[2], junk[1], good[3], junk[2], good[4], good[5]]
    (layout.history / "2026-11-28.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    pages = [ids(history.page(layout, history.HistoryQuery(page=n, size=2))) for n in (1, 2, 3)]
    assert pages == [["r05", "r04"], ["r03", "r02"], ["r01", "r00"]]
