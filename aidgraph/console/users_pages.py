"""People of the console, for a user administrator: the list, adding a person, disabling, resets.

The same services as `aidgraph users` (auth/people/users.py), each change one audit event naming the
administrator. A one-time password is shown once, on the page that made it, and exists nowhere else.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import USER_ADMIN, Visitor, page
from aidgraph.console.pages import render
from auth.people.users import PERMISSIONS, UserError, add_user, disable_user, list_users, reset_user
from auth.policy_store import PolicyCache


class UserPages:
    def routes(self) -> list[Route]:
        return [
            Route("/users", self.list, methods=["GET"]),
            Route("/users", self.add, methods=["POST"]),
            Route("/users/{name}/disable", self.disable, methods=["POST"]),
            Route("/users/{name}/reset", self.reset, methods=["POST"]),
        ]

    @staticmethod
    async def _page(
        request: Request, *, status: int = 200, one_time: tuple[str, str] | None = None, error: str | None = None
    ) -> Response:
        engine = request.state.engine
        people = await request.state.threads.call(lambda: list_users(engine))
        policies: PolicyCache = request.state.policies
        live = policies.current()
        roles = sorted(live.policy.rules) if live is not None else []
        context: dict[str, Any] = {
            "people": people,
            "permissions": sorted(PERMISSIONS),
            "roles": roles,
            "one_time": one_time,
            "error": error,
        }
        return render(request, "users/list.html", context, status=status)

    @property
    def list(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def list_people(request: Request, visitor: Visitor) -> Response:
            return await self._page(request)

        return list_people

    @property
    def add(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def add(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            name = str(visitor.form.get("name", "")).strip()
            roles = [str(value) for value in visitor.form.getlist("roles")]
            regions = [part.strip() for part in str(visitor.form.get("regions", "")).split(",") if part.strip()]
            engine = request.state.engine
            try:
                password = await request.state.threads.call(
                    lambda: add_user(engine, name, roles, regions, by=visitor.name)
                )
            except UserError as error:
                return await self._page(request, status=422, error=str(error))
            return await self._page(request, one_time=(name, password))

        return add

    @property
    def disable(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def disable(request: Request, visitor: Visitor) -> Response:
            name = request.path_params["name"]
            engine = request.state.engine
            try:
                await request.state.threads.call(lambda: disable_user(engine, name, by=visitor.name))
            except UserError as error:
                return await self._page(request, status=422, error=str(error))
            return await self._page(request)

        return disable

    @property
    def reset(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def reset(request: Request, visitor: Visitor) -> Response:
            assert visitor.form is not None
            name = request.path_params["name"]
            what = str(visitor.form.get("what", ""))
            engine = request.state.engine
            try:
                password = await request.state.threads.call(
                    lambda: reset_user(
                        engine,
                        name,
                        by=visitor.name,
                        password=what in ("password", "both"),
                        second_factor=what in ("second-factor", "both"),
                    )
                )
            except UserError as error:
                return await self._page(request, status=422, error=str(error))
            return await self._page(request, one_time=(name, password) if password else None)

        return reset
