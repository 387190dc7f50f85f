"""Jinja2 templates (autoescaped: every prompt, log line and error is text, never markup)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pipeline.domain.settings import Settings
from pipeline.storage.layout import Layout
from pipeline.web import present

TEMPLATES = Path(__file__).with_name("templates")


def _environment() -> Environment:
    env = Environment(loader=FileSystemLoader(TEMPLATES),
                      autoescape=select_autoescape(default=True, default_for_string=True))
    env.filters.update(span=present.span, when=present.short_time, percent=present.percent,
                       usd=present.usd)
    return env


class Renderer:
    def __init__(self, layout: Layout, settings: Settings, live: bool = True) -> None:
        self.layout = layout
        self.settings = settings
        self.live = live
        self.env = _environment()

    def page(self, request: Request, template: str, context: dict[str, Any],
             status_code: int = 200, parts: tuple[str, ...] = ()) -> HTMLResponse:
        """A whole page, or with `?part=NAME` (one of `parts`) only its live region."""
        part = request.query_params.get("part")
        if part in parts:
            template = f"_{part}.html"
        body = self.env.get_template(template).render(
            request=request, root=str(self.layout.root), **context)
        return HTMLResponse(body, status_code=status_code)
