"""The console under /admin: its page groups, its static files, and what every request to it carries.

Mounted by the hub's app factory (aidgraph/app.py) beside /graphql, in the same process and on the same
store, so the console's pages use the very services the command line and the API use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from aidgraph.console.alert_pages import AlertPages
from aidgraph.console.audit_pages import AuditPages
from aidgraph.console.casework_pages import CaseworkPages
from aidgraph.console.clients_pages import ClientPages
from aidgraph.console.guard import Visitor, page
from aidgraph.console.pages import PREFIX, render, with_security_headers
from aidgraph.console.policy_pages import PolicyPages
from aidgraph.console.signin_pages import SignInPages
from aidgraph.console.sso_pages import SingleSignOnPages
from aidgraph.console.users_pages import UserPages
from aidgraph.graphql_http import GraphQLEndpoint
from aidgraph.settings import Settings
from auth.people.oidc import Provider


class PageGroup(Protocol):
    """A group of pages (sign-in, casework, policies...): the routes it adds under /admin."""

    def routes(self) -> list[Route]: ...


class Console:
    """The console's shared parts: the settings its pages read and the sign-in's lockout."""

    def __init__(self, settings: Settings, endpoint: GraphQLEndpoint) -> None:
        self.settings = settings
        self.signin = SignInPages(settings)
        self.groups: list[PageGroup] = [
            self.signin,
            CaseworkPages(endpoint),
            AlertPages(endpoint),
            AuditPages(endpoint),
            ClientPages(),
            UserPages(),
            PolicyPages(),
        ]
        self._provider: Provider | None = None
        single_sign_on = settings.oidc_settings()
        if single_sign_on is not None:
            self._provider = Provider(single_sign_on)
            self.groups.append(SingleSignOnPages(self._provider, self.signin))

    def close(self) -> None:
        """At the hub's shutdown: the single sign-on's connections to the issuer."""
        if self._provider is not None:
            self._provider.close()

    def mount(self) -> Mount:
        routes: list[Any] = [Route("/", _home, methods=["GET"])]
        for group in self.groups:
            routes.extend(group.routes())
        routes.append(Mount("/static", app=_Static(StaticFiles(directory=Path(__file__).parent / "static"))))
        return Mount(PREFIX, app=_WithConsole(_router(routes), self))


@page()
async def _home(request: Request, visitor: Visitor) -> Response:
    return render(request, "home.html")


def _router(routes: list[Any]) -> ASGIApp:
    from starlette.routing import Router

    return Router(routes=routes)


class _WithConsole:
    """Puts the console on every request's state (`request.state.console`), as the lifespan puts the store."""

    def __init__(self, app: ASGIApp, console: Console) -> None:
        self._app = app
        self._console = console

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope.setdefault("state", {})["console"] = self._console
        await self._app(scope, receive, send)


class _Static:
    """The console's own files, with the console's headers (a stylesheet and htmx are all there is)."""

    def __init__(self, files: StaticFiles) -> None:
        self._files = files

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                response = Response(status_code=message["status"])
                response.raw_headers = list(message.get("headers", []))
                with_security_headers(response)
                response.headers["Cache-Control"] = "public, max-age=3600"
                message = {**message, "headers": response.raw_headers}
            await send(message)

        await self._files(scope, receive, with_headers)
