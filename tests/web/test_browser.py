"""The dashboard as a person uses it: Debian's chromium (through Playwright) against a real
`claude-runner web` and a real daemon with the fake agent, all on a temp root. The page is
never reloaded while it is expected to change: every change arrives by server-sent events.
Screenshots of every view land in the test's temp folder (and, with
CLAUDE_RUNNER_UPDATE_SCREENSHOT=1, docs/dashboard.png for the README)."""

from __future__ import annotations

import contextlib
import os
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from helpers import (
    REPO,
    DaemonProcess,
    cli,
    drop,
    queue_ids,
    read_json,
    record_of,
    running_id,
    wait_for,
    write_json,
    write_settings,
)
from web_browser import CHROMIUM, CHROMIUM_ARGS, WebServer, missing_browser, pixel_spread

WHY_NOT = missing_browser()
if WHY_NOT and os.environ.get("CLAUDE_RUNNER_REQUIRE_BROWSER"):  # set by .ci/run
    raise RuntimeError(f"the browser tests must run here but cannot: {WHY_NOT}")
pytestmark = [pytest.mark.browser, pytest.mark.skipif(WHY_NOT is not None, reason=WHY_NOT or "")]

EXPECT_MS = 10_000  # generous under load; the page itself updates within ~100 ms
VIEWS = {"overview": "/", "queue": "/queue", "schedules": "/schedules", "history": "/history",
         "reports": "/reports", "settings": "/settings", "task": "/tasks/shot-fail"}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("web-root")
    write_settings(root)
    write_json(root / "tasks" / "scheduled.json", {"tasks": [
        {"id": "nightly-eval", "cron": "5 0 * * *", "prompt": "Evaluate the day",
         "role": "evaluator", "enabled": False}]})
    return root


@pytest.fixture(scope="module")
def daemon(root: Path) -> Iterator[DaemonProcess]:
    process = DaemonProcess(root).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def server(root: Path, daemon: DaemonProcess) -> Iterator[WebServer]:
    web = WebServer(root)
    yield web
    web.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser, server: WebServer) -> Iterator:
    context = browser.new_context(viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.set_default_timeout(EXPECT_MS)
    page.on("dialog", lambda dialog: dialog.accept())
    yield page
    context.close()


def open_view(page, server: WebServer, path: str) -> None:
    page.goto(server.base + path)
    page.wait_for_selector("body[data-live=on]")  # the event stream is connected
    page.evaluate("window.__notReloaded = true")


def not_reloaded(page) -> bool:
    return page.evaluate("window.__notReloaded === true")


def hold(root: Path, name: str) -> tuple[str, Path]:
    """A task that stays running until the returned file exists."""
    release = root / f"release-{name}"
    drop(root, f"{name}.json", {"id": name, "name": name, "prompt": f"@wait {release} 60"})
    return name, release


def test_a_dropped_task_appears_and_runs_live(page, server: WebServer, root: Path) -> None:
    from playwright.sync_api import expect

    open_view(page, server, "/")
    expect(page.locator("#daemon")).to_contain_text("alive")
    task_id, release = hold(root, "live-drop")
    expect(page.locator("#running")).to_contain_text(task_id)
    release.touch()
    expect(page.locator("#running")).to_contain_text("nothing")
    expect(page.locator("#today")).to_contain_text("1 completed")
    assert record_of(root, task_id)["status"] == "success"
    assert not_reloaded(page)


def test_the_task_page_follows_its_log(page, server: WebServer, root: Path) -> None:
    from playwright.sync_api import expect

    task_id, release = hold(root, "followed")
    wait_for(lambda: running_id(root) == task_id, message="the task running")
    open_view(page, server, f"/tasks/{task_id}")
    expect(page.locator("#where")).to_have_text("running")
    with open(root / "logs" / "tasks" / f"{task_id}.log", "a", encoding="utf-8") as log:
        log.write("step 1 <b>done</b>\n")
    expect(page.locator("#log")).to_contain_text("step 1 <b>done</b>")
    release.touch()
    expect(page.locator("#where")).to_have_text("completed")
    assert not_reloaded(page)


def test_cancel_button_moves_a_queued_task_to_failed(page, server: WebServer,
                                                     root: Path) -> None:
    from playwright.sync_api import expect

    blocker, release = hold(root, "blocker")
    wait_for(lambda: running_id(root) == blocker, message="the blocker running")
    open_view(page, server, "/queue")
    drop(root, "victim.json", {"id": "victim", "name": "victim", "prompt": "never runs"})
    row = page.locator('#queue-table tr[data-id="victim"]')
    expect(row).to_be_visible()  # arrived live
    row.get_by_role("button", name="cancel").click()
    expect(page.locator("#flash")).to_contain_text("cancelled victim")
    expect(row).to_have_count(0)
    expect(page.locator('#failed-table tr[data-id="victim"]')).to_contain_text("cancelled")
    assert record_of(root, "victim")["outcome"] == "cancelled"
    assert not_reloaded(page)
    release.touch()
    wait_for(lambda: record_of(root, blocker), message="the blocker done")


def test_schedule_toggle_changes_scheduled_json(page, server: WebServer, root: Path) -> None:
    from playwright.sync_api import expect

    path = root / "tasks" / "scheduled.json"
    open_view(page, server, "/schedules")
    row = page.locator('#schedule-table tr[data-id="nightly-eval"]')
    expect(row).to_contain_text("At 00:05")
    row.locator("button.toggle").click()
    wait_for(lambda: read_json(path)["tasks"][0]["enabled"] is True, message="enabled on disk")
    expect(row.locator("button.toggle")).to_have_text("on")
    row.locator("button.toggle").click()
    wait_for(lambda: read_json(path)["tasks"][0]["enabled"] is False, message="disabled on disk")
    expect(row.locator("button.toggle")).to_have_text("off")
    assert not_reloaded(page)


def test_the_add_form_shows_the_validators_message(page, server: WebServer,
                                                   root: Path) -> None:
    from playwright.sync_api import expect

    open_view(page, server, "/queue")
    form = page.locator("#add-form")
    form.locator("textarea[name=prompt]").fill("Write the release notes")
    form.locator("input[name=timeout]").fill("soon")
    form.get_by_role("button", name="Add").click()
    message = page.locator('#add-result li[data-field="timeout"]')
    expect(message).to_have_text("timeout: must be an integer number of milliseconds from 1 to "
                                 "604800000 (limits.timeout_ms)")
    form.locator("input[name=timeout]").fill("600000")
    form.locator("input[name=name]").fill("release-notes")
    form.get_by_role("button", name="Add").click()
    expect(page.locator("#add-result")).not_to_contain_text("must be")
    wait_for(lambda: record_of(root, page.locator("#add-result a").inner_text()),
             message="the added task done")


def test_a_script_prompt_renders_as_text(page, server: WebServer, root: Path) -> None:
    from playwright.sync_api import expect

    blocker, release = hold(root, "blocker2")
    wait_for(lambda: running_id(root) == blocker, message="the blocker running")
    prompt = "<script>window.__pwned = 1</script><img src=x id=boom onerror=alert(1)>"
    done = cli(root, "add", prompt, "--id", "xss")
    assert done.returncode == 0, done.stderr
    for path in ("/queue", "/tasks/xss"):
        open_view(page, server, path)
        expect(page.locator("main")).to_contain_text("<script>window.__pwned = 1</script>")
        assert page.evaluate("window.__pwned") is None
        assert page.locator("#boom").count() == 0
    cli(root, "cancel", "xss")
    release.touch()
    wait_for(lambda: record_of(root, blocker), message="the blocker done")


@contextlib.contextmanager
def attacker_site(target: str) -> Iterator[str]:
    """Another origin whose page posts a form to `target` as soon as it loads (CSRF)."""
    body = (f'<form method="post" action="{target}"><input name="confirm" value="yes">'
            "</form><script>document.forms[0].submit()</script>").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    site = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{site.server_address[1]}/"
    finally:
        site.shutdown()
        site.server_close()


def test_a_cross_origin_post_is_refused(page, server: WebServer, root: Path) -> None:
    from playwright.sync_api import expect

    blocker, release = hold(root, "blocker3")
    wait_for(lambda: running_id(root) == blocker, message="the blocker running")
    cli(root, "add", "stays queued", "--id", "keep")
    with attacker_site(server.base + "/actions/clear") as evil:
        with page.expect_response(server.base + "/actions/clear") as refused:
            page.goto(evil)
        assert refused.value.status == 403
    assert queue_ids(root) == ["keep"]
    # the same request from the page itself works: the refusal was the origin's
    open_view(page, server, "/queue")
    page.locator("input[name=confirm]").check()
    page.get_by_role("button", name="clear the queue").click()
    expect(page.locator("#flash")).to_contain_text("cancelled 1 queued task(s)")
    assert queue_ids(root) == []
    release.touch()
    wait_for(lambda: record_of(root, blocker), message="the blocker done")


def test_non_loopback_needs_the_token(browser, root: Path, daemon: DaemonProcess) -> None:
    web = WebServer(root, "--host", "0.0.0.0", env={"CLAUDE_RUNNER_WEB_TOKEN": "tok-123"})
    try:
        assert "?token=tok-123" in web.url
        local = web.base.replace("0.0.0.0", "127.0.0.1")
        context = browser.new_context()
        page = context.new_page()
        assert page.goto(local + "/").status == 401
        assert page.goto(local + "/queue?token=tok-123").status == 200
        assert page.url.rstrip("?") == local + "/queue"  # the token left the address bar
        cookie = context.cookies()[0]
        assert cookie["httpOnly"] and cookie["sameSite"] == "Strict"
        assert page.goto(local + "/").status == 200
        context.close()
    finally:
        web.stop()


def test_every_view_fits_a_phone_and_has_a_screenshot(browser, server: WebServer,
                                                      root: Path, tmp_path: Path) -> None:
    drop(root, "shot-ok.json", {"id": "shot-ok", "name": "nightly-refactor", "role": "executor",
                                "prompt": "Refactor the parser"})
    drop(root, "shot-fail.json", {"id": "shot-fail", "name": "flaky-deploy", "role": "executor",
                                  "prompt": "@fail", "maxRetries": 0})
    wait_for(lambda: record_of(root, "shot-ok") and record_of(root, "shot-fail"),
             message="two records in history")
    task_id, release = hold(root, "plan-next-hour")
    wait_for(lambda: running_id(root) == task_id, message="a task running")
    for name, role in (("write-release-notes", "coach"), ("fix-flaky-test", "executor")):
        drop(root, f"{name}.json", {"id": name, "name": name, "role": role, "prompt": name})
    wait_for(lambda: len(queue_ids(root)) == 2, message="two tasks waiting")
    shots = {}
    for width, height in ((1100, 800), (375, 740)):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        for name, path in VIEWS.items():
            page.goto(server.base + path)
            page.wait_for_selector("body[data-live=on]")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways at {width} px"
            shot = tmp_path / f"{name}-{width}.png"
            page.screenshot(path=str(shot), full_page=True)
            shots[(name, width)] = shot
        context.close()
    release.touch()
    assert pixel_spread(shots[("overview", 1100)]) > 20
    if os.environ.get("CLAUDE_RUNNER_UPDATE_SCREENSHOT"):
        shutil.copy(shots[("overview", 1100)], REPO / "docs" / "dashboard.png")
