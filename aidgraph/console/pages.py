"""Rendering a console page: the templates, the visitor's language, and the headers every page carries.

Every page is rendered here, so every page gets the same protections: Jinja2 escapes every value
(autoescape on for all templates), the answer is never cached, and the Content-Security-Policy
allows nothing but the console's own files: no inline script, no inline style, no frames around
it, forms posting only to the console itself. htmx runs under that policy because its
configuration (templates/base.html) turns off what would need more: eval, inline indicator styles
and script tags in swapped content.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from aidgraph.console.messages import Messages, catalogue, language_of

PREFIX: Final = "/admin"
LANGUAGE_COOKIE: Final = "aidgraph-lang"
HTMX: Final = "htmx-2.0.11.min.js"

CONTENT_SECURITY_POLICY: Final = "; ".join(
    (
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
    )
)
SECURITY_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",  # frame-ancestors for browsers that predate it
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "Cross-Origin-Opener-Policy": "same-origin",
}

_templates = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt variable is an error in the tests, not a blank on the page
    trim_blocks=True,
    lstrip_blocks=True,
)


# Caseworkers read times in their own clock: the hub stores UTC, and Chinese local time is one zone.
LOCAL_TIME: Final = ZoneInfo("Asia/Shanghai")


def local_time(value: object) -> str:
    """An ISO time from the graph as `2026-12-02 01:16` in China's time (the page says so in its labels)."""
    if not isinstance(value, str):
        return "—" if value is None else str(value)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return value
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(LOCAL_TIME).strftime("%Y-%m-%d %H:%M")


_templates.filters["local_time"] = local_time


def messages_of(request: Request) -> Messages:
    return catalogue(language_of(request.cookies.get(LANGUAGE_COOKIE), request.query_params.get("lang")))


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """`template` with the page's context, in the visitor's language, with the console's headers.

    A request from htmx (`HX-Request`) that names a fragment gets only that block (`fragment`), so
    a filter or a status change swaps a part of the page without reloading it.
    """
    t = messages_of(request)
    values = {
        "t": t,
        "lang": t.language,
        "prefix": PREFIX,
        "htmx": HTMX,
        "visitor": getattr(request.state, "visitor", None),
        "path": request.url.path,
        "single_person": _single_person(request),
        **(context or {}),
    }
    compiled = _templates.get_template(template)
    fragment = values.get("fragment") if request.headers.get("hx-request") == "true" else None
    if fragment is not None and fragment in compiled.blocks:
        body = "".join(compiled.blocks[fragment](compiled.new_context(values)))
    else:
        body = compiled.render(values)
    response = HTMLResponse(body, status_code=status, headers=dict(headers or {}))
    if request.query_params.get("lang") in ("zh", "en"):
        response.set_cookie(
            LANGUAGE_COOKIE,
            t.language,
            max_age=365 * 24 * 3600,
            path=PREFIX,
            samesite="strict",
            httponly=True,
            secure=request.url.scheme == "https",
        )
    return response


def _single_person(request: Request) -> bool:
    """Whether this deployment lets one person publish a policy alone: said on every page when it does."""
    console = getattr(request.state, "console", None)
    return bool(getattr(console.settings, "policy_single_person", False)) if console is not None else False


def with_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    return response
