"""The web app over HTTP (in-process, Starlette's TestClient): every page, every action
through the CLI's own functions, and each endpoint's errors (404 unknown id, 422 bad input
naming the field, 401/403 from the security policy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import cli, queue_ids, read_json, records, write_json

from pipeline.domain.settings_load import load_settings
from pipeline.storage.layout import Layout

pytest.importorskip("httpx2", reason="httpx2 (the test extra) is not installed")
from starlette.testclient import TestClient  # noqa: E402

from pipeline.web.app import create_app  # noqa: E402
from pipeline.web.security import COOKIE, Policy  # noqa: E402

BASE = "http://127.0.0.1:8765"
SAME = {"Origin": BASE}


def client_for(root: Path, policy: Policy | None = None) -> TestClient:
    layout = Layout(root)
    layout.ensure()
    app = create_app(layout, load_settings(root), policy or Policy(token=None, loopback=True),
                     watch=False)
    return TestClient(app, base_url=BASE, follow_redirects=False)


@pytest.fixture
def client(root: Path) -> TestClient:
    return client_for(root)


def add(root: Path, *args: str) -> str:
    done = cli(root, "add", *args)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_every_view_renders(client: TestClient, root: Path) -> None:
    task_id = add(root, "hello", "--name", "greeting")
    for path in ("/", "/queue", "/schedules", "/history", "/reports", "/settings",
                 f"/tasks/{task_id}", "/?part=overview", "/queue?part=queue"):
        response = client.get(path)
        assert response.status_code == 200, path
    assert "greeting" in client.get("/queue").text
    assert client.get("/api/status").json()["queue"]["length"] == 1
    assert client.get("/reports/2026-11-28.svg").headers["content-type"].startswith("image/svg")
    assert "daemon NOT RUNNING" in client.get("/?part=badge").text  # no daemon here
    assert "not running" in client.get("/").text


def test_a_script_prompt_is_text(client: TestClient, root: Path) -> None:
    task_id = add(root, "<script>alert(1)</script>")
    for path in ("/queue", f"/tasks/{task_id}"):
        body = client.get(path).text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body
        assert "<script>alert" not in body


def test_add_goes_through_the_validator(client: TestClient, root: Path) -> None:
    bad = client.post("/actions/add", data={"prompt": "x", "timeout": "abc"}, headers=SAME)
    assert bad.status_code == 422
    assert 'data-field="timeout"' in bad.text
    assert "must be an integer number of milliseconds from 1 to" in bad.text
    empty = client.post("/actions/add", data={"prompt": ""}, headers=SAME)
    assert empty.status_code == 422 and "must be a non-empty string" in empty.text
    assert queue_ids(root) == []
    good = client.post("/actions/add", data={"prompt": "x", "timeout": "5000", "name": "n",
                                             "allowedTools": "Read, Edit", "autoApprove": "1"},
                       headers=SAME)
    assert good.status_code == 200
    task = read_json(root / "tasks" / "queue.json")["list"][0]
    assert (task["timeout"], task["allowedTools"], task["autoApprove"]) == (5000, ["Read", "Edit"],
                                                                          True)
    duplicate = client.post("/actions/add", data={"prompt": "x", "id": task["id"]}, headers=SAME)
    assert duplicate.status_code == 422 and 'data-field="id"' in duplicate.text
    more = client.post("/actions/add", data={"prompt": "y", "more": '{"kind": "optimisation"}'},
                       headers=SAME)
    assert more.status_code == 200
    assert read_json(root / "tasks" / "queue.json")["list"][-1]["kind"] == "optimisation"
    for text in ("[1]", "{not json"):
        bad_more = client.post("/actions/add", data={"prompt": "y", "more": text}, headers=SAME)
        assert bad_more.status_code == 422 and 'data-field="more"' in bad_more.text
    bad_field = client.post("/actions/add", data={"prompt": "y", "more": '{"maxRetries": -1}'},
                            headers=SAME)
    assert bad_field.status_code == 422 and 'data-field="maxRetries"' in bad_field.text


def test_cancel_retry_move_and_clear(client: TestClient, root: Path) -> None:
    first, second = add(root, "one"), add(root, "two")
    assert client.post(f"/actions/tasks/{second}/move", headers=SAME).status_code == 200
    assert queue_ids(root) == [second, first]
    assert client.post(f"/actions/tasks/{second}/cancel", headers=SAME).status_code == 200
    assert records(root, "failed")[-1]["outcome"] == "cancelled"
    assert client.post(f"/actions/tasks/{second}/retry", headers=SAME).status_code == 200
    assert queue_ids(root) == [second, first]
    refused = client.post("/actions/clear", data={}, headers=SAME)
    assert refused.status_code == 422 and 'data-field="confirm"' in refused.text
    assert client.post("/actions/clear", data={"confirm": "yes"}, headers=SAME).status_code == 200
    assert queue_ids(root) == []


@pytest.mark.parametrize("path", ["/actions/tasks/nope/cancel", "/actions/tasks/nope/retry",
                                  "/actions/tasks/nope/move", "/actions/schedules/nope/enable",
                                  "/actions/schedules/nope/disable", "/actions/schedules/nope/run",
                                  "/actions/schedules/nope/explode"])
def test_unknown_ids_are_404(client: TestClient, path: str) -> None:
    response = client.post(path, headers=SAME)
    assert response.status_code == 404
    assert "nope" in response.text or "explode" in response.text


def test_unknown_pages_are_404(client: TestClient) -> None:
    assert client.get("/tasks/nope").status_code == 404
    assert client.get("/tasks/a%20b").status_code == 404
    assert client.get("/no-such-page").status_code == 404


@pytest.mark.parametrize(("path", "field"), [
    ("/history?status=maybe", "status"), ("/history?day=yesterday", "day"),
    ("/history?page=0", "page"), ("/reports?day=2026-13-01", "day"),
    ("/reports/someday.svg", "day")])
def test_bad_queries_are_422_naming_the_field(client: TestClient, path: str,
                                              field: str) -> None:
    response = client.get(path)
    assert response.status_code == 422
    assert f'data-field="{field}"' in response.text


def test_api_history_errors_are_json(client: TestClient) -> None:
    response = client.get("/api/history?page=x")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "page"


def test_schedule_toggle_and_run_now(client: TestClient, root: Path) -> None:
    path = root / "tasks" / "scheduled.json"
    write_json(path, {"tasks": [{"id": "nightly", "cron": "0 3 * * *", "prompt": "p",
                                 "enabled": False}]})
    assert "At 03:00" in client.get("/schedules").text
    assert client.post("/actions/schedules/nightly/enable", headers=SAME).status_code == 200
    assert read_json(path)["tasks"][0]["enabled"] is True
    assert client.post("/actions/schedules/nightly/disable", headers=SAME).status_code == 200
    assert read_json(path)["tasks"][0]["enabled"] is False
    ran = client.post("/actions/schedules/nightly/run", headers=SAME)
    assert ran.status_code == 200 and queue_ids(root)[0].startswith("nightly-")


def test_queue_full_is_409(root: Path) -> None:
    (root / "runner.toml").write_text((root / "runner.toml").read_text()
                                      + "\n[queue]\nhigh_watermark = 1\nlow_watermark = 0\n")
    client = client_for(root)
    add(root, "a")
    add(root, "b", "--priority", "high")
    response = client.post("/actions/add", data={"prompt": "c"}, headers=SAME)
    assert response.status_code == 409 and "full" in response.text


def test_a_damaged_queue_is_503_and_left_alone(client: TestClient, root: Path) -> None:
    (root / "tasks" / "queue.json").write_text("{broken")
    response = client.post("/actions/add", data={"prompt": "x"}, headers=SAME)
    assert response.status_code == 503
    assert (root / "tasks" / "queue.json").read_text() == "{broken"
    assert client.get("/queue").status_code == 200


def test_state_changes_need_the_page_origin(client: TestClient, root: Path) -> None:
    task_id = add(root, "keep me")
    assert client.post("/actions/clear", data={"confirm": "yes"}).status_code == 403
    for origin in ("http://evil.example", "null", "http://127.0.0.1:9999"):
        response = client.post("/actions/clear", data={"confirm": "yes"},
                               headers={"Origin": origin})
        assert response.status_code == 403, origin
    referer = client.post(f"/actions/tasks/{task_id}/move", headers={"Referer": BASE + "/queue"})
    assert referer.status_code == 200
    assert queue_ids(root) == [task_id]


def test_a_foreign_host_header_is_refused(client: TestClient) -> None:
    """DNS rebinding: a page of evil.example resolving to 127.0.0.1 sends Host: evil.example."""
    assert client.get("/", headers={"Host": "evil.example:8765"}).status_code == 403
    assert client.get("/", headers={"Host": "localhost:8765"}).status_code == 200


def test_non_loopback_needs_the_token(root: Path) -> None:
    client = client_for(root, Policy(token="s3cret", loopback=False))
    assert client.get("/").status_code == 401
    assert client.get("/events").status_code == 401
    assert client.get("/?token=wrong").status_code == 401
    exchange = client.get("/queue?token=s3cret&x=1")
    assert exchange.status_code == 303 and exchange.headers["location"] == "/queue?x=1"
    cookie = exchange.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/queue").status_code == 200  # the cookie now
    assert client.post("/actions/clear", data={"confirm": "yes"}).status_code == 403  # origin
    client.cookies.clear()
    assert client.get("/", headers={"Authorization": "Bearer s3cret"}).status_code == 200
    client.cookies.set(COOKIE, "wrong")
    assert client.get("/").status_code == 401


def test_security_headers(client: TestClient) -> None:
    headers = client.get("/").headers
    assert "default-src 'self'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY"


def test_typed_values_reach_the_page_with_every_field_of_the_file(client: TestClient,
                                                                    root: Path) -> None:
    """Records and tasks are read into typed values and shown as the file held them:
    unknown fields, explicit nulls and odd values come back untouched; the queue keeps
    the run order (high first, then FIFO, waiting retries last)."""
    layout = Layout(root)
    kept = {"id": "h1", "prompt": "p", "status": "failed", "outcome": "error",
            "failedAt": "2026-11-28T10:00:00Z", "error": "boom", "durationMs": "slow",
            "name": None, "git": {"commits": 2, "subjects": ["x"]}, "custom": [1, {"a": 2}]}
    write_json(layout.failed, {"list": [7, kept]})
    (layout.history / "2026-11-28.jsonl").write_text(json.dumps(kept) + "\n")
    write_json(layout.queue, {"list": [
        {"id": "later", "prompt": "p", "notBefore": "2999-01-01T00:00:00Z"},
        {"id": "normal", "prompt": "p"}, {"id": "urgent", "prompt": "p", "priority": "high"}]})
    assert client.get("/api/history").json()["records"] == [kept]
    page = client.get("/tasks/h1").text
    assert "custom" in page and "filesChanged" not in page and ">2</dd>" in page
    queue = client.get("/queue").text
    rows = [queue.index(f'data-id="{task_id}"') for task_id in ("urgent", "normal", "later", "h1")]
    assert rows == sorted(rows) and "waits" in queue
