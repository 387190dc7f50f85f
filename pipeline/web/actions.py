"""The page's buttons and forms: each calls the CLI's own function (same validator,
same locks, same files) and shows its Result with the matching HTTP status."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from pipeline.cli import queue as queue_actions
from pipeline.cli import schedule as schedule_actions
from pipeline.cli.result import Result, Status, done, refused
from pipeline.domain.validation import FieldError
from pipeline.storage.queue import TaskQueue
from pipeline.web.render import Renderer

_TEXT = ("prompt", "workspace", "id", "name", "role", "priority", "model")
_NUMBERS = ("timeout", "maxTurns", "maxRetries")


def _number(text: str) -> Any:
    """An integer when the text is one; else the text, for the validator to name."""
    try:
        return int(text)
    except ValueError:
        return text


def task_from_form(form: dict[str, str]) -> tuple[dict[str, Any], list[FieldError]]:
    """The add form as a task; empty fields are left out (their defaults apply). `more`
    holds any other task fields as a JSON object (checked by the validator like the rest)."""
    more: Any = {}
    if form.get("more", "").strip():
        try:
            more = orjson.loads(form["more"])
        except orjson.JSONDecodeError:
            more = None
        if not isinstance(more, dict):
            return {}, [FieldError(None, "more", 'must be a JSON object, e.g. {"kind": "x"}')]
    task: dict[str, Any] = {**more, "prompt": form.get("prompt", "")}
    task.update({k: form[k].strip() for k in _TEXT[1:] if form.get(k, "").strip()})
    task.update({k: _number(form[k].strip()) for k in _NUMBERS if form.get(k, "").strip()})
    if form.get("autoApprove"):
        task["autoApprove"] = True
    tools = [t.strip() for t in form.get("allowedTools", "").split(",") if t.strip()]
    if tools:
        task["allowedTools"] = tools
    return task, []


async def form_of(request: Request) -> dict[str, str]:
    """An url-encoded body (what htmx and plain forms send)."""
    body = (await request.body()).decode("utf-8", errors="replace")
    return dict(parse_qsl(body, keep_blank_values=True))


class Actions:
    def __init__(self, renderer: Renderer) -> None:
        self.r = renderer
        self.layout, self.settings = renderer.layout, renderer.settings

    def _show(self, request: Request, result: Result) -> Response:
        return self.r.page(request, "_result.html", {"result": result},
                           status_code=result.status.http)

    async def add(self, request: Request) -> Response:
        task, errors = task_from_form(await form_of(request))
        if errors:
            return self._show(request, refused(Status.BAD_INPUT, str(errors[0]), tuple(errors)))
        return self._show(request, await run_in_threadpool(
            queue_actions.add_task, self.layout, self.settings, task))

    async def cancel(self, request: Request) -> Response:
        return self._show(request, await run_in_threadpool(
            queue_actions.cancel_task, self.layout, self.settings, request.path_params["id"]))

    async def retry(self, request: Request) -> Response:
        return self._show(request, await run_in_threadpool(
            queue_actions.retry_task, self.layout, self.settings, request.path_params["id"]))

    async def move(self, request: Request) -> Response:
        task_id = request.path_params["id"]
        moved = await run_in_threadpool(
            TaskQueue(self.layout, self.settings).move_to_head, task_id)
        result = done(f"{task_id} moved to the head of the queue", task_id) if moved else \
            refused(Status.NOT_FOUND, f"no queued task {task_id}")
        return self._show(request, result)

    async def clear(self, request: Request) -> Response:
        if (await form_of(request)).get("confirm") != "yes":
            return self._show(request, refused(
                Status.BAD_INPUT, "confirm: tick the box to cancel every queued task",
                (FieldError(None, "confirm", "tick the box to cancel every queued task"),)))
        return self._show(request, await run_in_threadpool(
            queue_actions.clear_queue, self.layout, self.settings))

    async def schedule(self, request: Request) -> Response:
        schedule_id, verb = request.path_params["id"], request.path_params["verb"]
        if verb == "run":
            result = await run_in_threadpool(
                schedule_actions.run_now, self.layout, self.settings, schedule_id)
        elif verb in ("enable", "disable"):
            result = await run_in_threadpool(
                schedule_actions.set_enabled, self.layout, self.settings, schedule_id,
                verb == "enable")
        else:
            result = refused(Status.NOT_FOUND, f"no action {verb}")
        return self._show(request, result)
