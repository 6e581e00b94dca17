"""The middleware around every request: its id, its root span, its one access line and its metrics.

The hub writes the access line itself (uvicorn's own access log stays off: it quotes the path and
query string as sent, and knows neither the client nor the operation). A request's log fields are
made here when it arrives (auth/request_log.py), filled in by the endpoint and the gate as they
learn them, and current for every line logged while it is served.
"""

from __future__ import annotations

import logging
import time
from typing import Final

from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from auth import metrics
from auth.request_log import RequestLog, done_serving, new_request_id, serving
from auth.tracing import annotate, span

access_log = logging.getLogger("aidgraph.access")
REQUEST_ID_HEADER: Final = b"x-request-id"
_METHODS: Final = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


class Observed:
    """Wraps the app: one access line, one root span and the request series for every HTTP request."""

    def __init__(self, app: ASGIApp) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        request_log = RequestLog(request_id=new_request_id())
        scope.setdefault("state", {})["request_log"] = request_log
        method = scope["method"] if scope["method"] in _METHODS else metrics.OTHER
        status = 500  # unless an answer starts
        started = time.perf_counter()

        async def answer(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [*message.get("headers", []), (REQUEST_ID_HEADER, request_log.request_id.encode())]
                message = {**message, "headers": headers}
            await send(message)

        token = serving(request_log)
        try:
            with span("request", method=method) as root:
                try:
                    await self._app(scope, receive, answer)
                finally:
                    route = _route_of(scope)
                    outcome = request_log.outcome or metrics.outcome_of(status)
                    operation = metrics.operation_label(request_log.operation())
                    seconds = time.perf_counter() - started
                    metrics.request_answered(route=route, operation=operation, outcome=outcome, seconds=seconds)
                    fields = request_log.access_fields(
                        method=method, path=route, status=status, seconds=seconds, outcome=outcome
                    )
                    access_log.info("%s %s %d %s", method, route, status, outcome, extra={"access": fields})
                    # the span names the operation as the metrics do: a label, not the client's own word
                    annotate(root, route=route, status=status, outcome=outcome, operation=operation)
                    annotate(root, client=fields.get("client"), document=fields.get("document"))
        finally:
            done_serving(token)


def _route_of(scope: Scope) -> str:
    """The path of the route that answered (set by the router), never the path as sent: that is free text."""
    route = scope.get("route")
    path = getattr(route, "path", None) if isinstance(route, BaseRoute) else None
    return path if isinstance(path, str) else metrics.OTHER
