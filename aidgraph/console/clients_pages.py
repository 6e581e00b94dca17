"""Client systems, for a user administrator: the list with each client's last use, registering one,
disabling one, rotating a secret.

The same services as `aidgraph clients` (auth/clients.py), each change one transaction with its audit
event naming the administrator, made in the console (`audited_as="console"`). A client's secret is
shown once, in the answer of the form that made it (registration or rotation), and exists nowhere else.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from aidgraph.console.guard import USER_ADMIN, Visitor, page, refusal
from aidgraph.console.pages import render
from auth.audit import AuditUnavailable
from auth.clients import ClientError, disable_client, last_used, list_clients, register_client, rotate_secret
from auth.people.users import CONSOLE
from auth.policy_store import PolicyCache


class ClientPages:
    def routes(self) -> list[Route]:
        return [
            Route("/clients", self.list, methods=["GET"]),
            Route("/clients", self.register, methods=["POST"]),
            Route("/clients/{client_id}/disable", self.disable, methods=["POST"]),
            Route("/clients/{client_id}/rotate", self.rotate, methods=["POST"]),
        ]

    @staticmethod
    async def _page(
        request: Request,
        *,
        status: int = 200,
        secret: tuple[str, str] | None = None,
        error: str | None = None,
        asked: dict[str, Any] | None = None,
    ) -> Response:
        engine = request.state.engine

        def read() -> tuple[list[Any], dict[str, Any]]:
            clients = list_clients(engine)
            return clients, last_used(engine, [client.client_id for client in clients])

        clients, used = await request.state.threads.call(read)
        policies: PolicyCache = request.state.policies
        live = policies.current()
        rules = live.policy.rules if live is not None else {}
        context: dict[str, Any] = {
            "clients": clients,
            "last_used": used,
            "roles": sorted(rules),
            "purposes": sorted({purpose for by_purpose in rules.values() for purpose in by_purpose}),
            "secret": secret,
            "error": error,
            "asked": asked or {"client_id": "", "department": "", "regions": "", "roles": [], "purposes": []},
        }
        return render(request, "clients/list.html", context, status=status)

    @property
    def list(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def list_client_systems(request: Request, visitor: Visitor) -> Response:
            return await self._page(request)

        return list_client_systems

    @property
    def register(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def register(request: Request, visitor: Visitor) -> Response:
            form = visitor.form
            assert form is not None
            asked: dict[str, Any] = {
                "client_id": str(form.get("client_id", "")).strip(),
                "department": str(form.get("department", "")).strip(),
                "regions": str(form.get("regions", "")).strip(),
                "roles": [str(value) for value in form.getlist("roles")],
                "purposes": [str(value) for value in form.getlist("purposes")],
            }
            engine = request.state.engine
            try:
                client, secret = await request.state.threads.call(
                    lambda: register_client(
                        engine,
                        client_id=asked["client_id"],
                        department=asked["department"],
                        roles=asked["roles"],
                        regions=[part.strip() for part in asked["regions"].split(",") if part.strip()],
                        purposes=asked["purposes"],
                        by=visitor.name,
                        audited_as=CONSOLE,
                    )
                )
            except ClientError as error:
                return await self._page(request, status=422, error=str(error), asked=asked)
            except AuditUnavailable:
                return refusal(request, 503, "unavailable")
            return await self._page(request, secret=(client.client_id, secret))

        return register

    @property
    def disable(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def disable(request: Request, visitor: Visitor) -> Response:
            client_id = request.path_params["client_id"]
            engine = request.state.engine
            try:
                await request.state.threads.call(
                    lambda: disable_client(engine, client_id, by=visitor.name, audited_as=CONSOLE)
                )
            except ClientError as error:
                return await self._page(request, status=422, error=str(error))
            except AuditUnavailable:
                return refusal(request, 503, "unavailable")
            return await self._page(request)

        return disable

    @property
    def rotate(self) -> Any:
        @page(needs=(USER_ADMIN,))
        async def rotate(request: Request, visitor: Visitor) -> Response:
            client_id = request.path_params["client_id"]
            engine = request.state.engine
            try:
                secret = await request.state.threads.call(
                    lambda: rotate_secret(engine, client_id, by=visitor.name, audited_as=CONSOLE)
                )
            except ClientError as error:
                return await self._page(request, status=422, error=str(error))
            except AuditUnavailable:
                return refusal(request, 503, "unavailable")
            return await self._page(request, secret=(client_id, secret))

        return rotate
