"""The Starlette application: routes, the file watcher's lifespan, server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import orjson
from sse_starlette.sse import EventSourceResponse
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from pipeline.cli.status import collect
from pipeline.domain import clock
from pipeline.domain.settings import Settings
from pipeline.domain.validation import FieldError
from pipeline.report.build import build_report, render_svg
from pipeline.storage.layout import Layout
from pipeline.web import history, views
from pipeline.web.actions import Actions
from pipeline.web.live import Broadcast, Watcher
from pipeline.web.present import settings_rows
from pipeline.web.render import Renderer
from pipeline.web.security import Guard, Policy

STATIC = Path(__file__).with_name("static")
PING_SECONDS = 15


class Pages:
    def __init__(self, renderer: Renderer, broadcast: Broadcast) -> None:
        self.r = renderer
        self.layout, self.settings = renderer.layout, renderer.settings
        self.broadcast = broadcast

    def _invalid(self, request: Request, errors: list[FieldError]) -> Response:
        return self.r.page(request, "_errors.html", {"errors": errors}, status_code=422)

    def _missing(self, request: Request, what: str) -> Response:
        return self.r.page(request, "page_missing.html", {"what": what}, status_code=404)

    async def overview(self, request: Request) -> Response:
        context = views.overview(self.layout, self.settings, clock.now())
        return self.r.page(request, "page_overview.html", context,
                           parts=("overview", "badge"))

    async def queue(self, request: Request) -> Response:
        context = views.queue_view(self.layout, self.settings, clock.now())
        return self.r.page(request, "page_queue.html", context, parts=("queue",))

    async def schedules(self, request: Request) -> Response:
        context = views.schedules_view(self.layout, clock.now())
        return self.r.page(request, "page_schedules.html", context, parts=("schedules",))

    async def history(self, request: Request) -> Response:
        query = history.parse_query(dict(request.query_params))
        if isinstance(query, list):
            return self._invalid(request, query)
        context = views.history_view(self.layout, query)
        return self.r.page(request, "page_history.html", context, parts=("history",))

    async def task(self, request: Request) -> Response:
        task_id = request.path_params["id"]
        context = views.task_view(self.layout, self.settings, task_id)
        if context is None:
            return self._missing(request, f"task {task_id}")
        return self.r.page(request, "page_task.html", context, parts=("record", "log"))

    def _day(self, request: Request) -> date | list[FieldError]:
        text = request.path_params.get("day") or request.query_params.get("day")
        if not text:
            return clock.now().astimezone().date()
        try:
            return date.fromisoformat(text)
        except ValueError:
            return [FieldError(None, "day", "expected YYYY-MM-DD")]

    async def report(self, request: Request) -> Response:
        day = self._day(request)
        if isinstance(day, list):
            return self._invalid(request, day)
        context = views.report_view(self.layout, self.settings, day, clock.now())
        return self.r.page(request, "page_report.html", context, parts=("report",))

    async def chart(self, request: Request) -> Response:
        day = self._day(request)
        if isinstance(day, list):
            return self._invalid(request, day)
        report = build_report(self.layout, day, clock.now(), self.settings.poll_interval)
        return Response(render_svg(report), media_type="image/svg+xml")

    async def settings_page(self, request: Request) -> Response:
        return self.r.page(request, "page_settings.html",
                           {"rows": settings_rows(self.settings)})

    async def api_status(self, request: Request) -> Response:
        return JSONResponse(collect(self.layout, self.settings, clock.now()))

    async def api_history(self, request: Request) -> Response:
        query = history.parse_query(dict(request.query_params))
        if isinstance(query, list):
            return JSONResponse({"errors": [e.to_dict() for e in query]}, status_code=422)
        page = history.page(self.layout, query)
        records = [record.to_dict() for record in page.records]
        return Response(orjson.dumps({"records": records, "hasNext": page.has_next,
                                      "page": query.page}), media_type="application/json")

    async def events(self, request: Request) -> Response:
        async def stream() -> AsyncIterator[dict[str, str]]:
            yield {"event": "hello", "data": "[]"}
            async for topics in self.broadcast.topics():
                yield {"event": "change", "data": orjson.dumps(topics).decode()}

        return EventSourceResponse(stream(), ping=PING_SECONDS)


def create_app(layout: Layout, settings: Settings, policy: Policy,
               watch: bool = True) -> Starlette:
    renderer = Renderer(layout, settings)
    broadcast = Broadcast()
    watcher = Watcher(layout, broadcast)
    pages, actions = Pages(renderer, broadcast), Actions(renderer)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        broadcast.loop = asyncio.get_running_loop()
        if watch:
            watcher.start()
        try:
            yield
        finally:
            watcher.stop()

    post = ["POST"]
    routes = [
        Route("/", pages.overview),
        Route("/queue", pages.queue),
        Route("/schedules", pages.schedules),
        Route("/history", pages.history),
        Route("/tasks/{id}", pages.task),
        Route("/reports", pages.report),
        Route("/reports/{day}.svg", pages.chart),
        Route("/settings", pages.settings_page),
        Route("/events", pages.events),
        Route("/api/status", pages.api_status),
        Route("/api/history", pages.api_history),
        Route("/actions/add", actions.add, methods=post),
        Route("/actions/clear", actions.clear, methods=post),
        Route("/actions/tasks/{id}/cancel", actions.cancel, methods=post),
        Route("/actions/tasks/{id}/retry", actions.retry, methods=post),
        Route("/actions/tasks/{id}/move", actions.move, methods=post),
        Route("/actions/schedules/{id}/{verb}", actions.schedule, methods=post),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
    app = Starlette(routes=routes, lifespan=lifespan)
    app.add_middleware(Guard, policy=policy)
    return app
