"""The console's data, asked of the graph: a person's page runs GraphQL through the /graphql endpoint itself.

A caseworker's ledger, an alert queue, a person's access log: each is a GraphQL document executed by
the same endpoint object as a client system's request (its bounds, its one analysis per document, the
policy of the person's roles for the purpose they chose, their regions, the audit event with their
name, a mutation's one transaction with its event), so the console has no second way to read or
change anything. Only who is asking differs: `PersonGate` takes the person from the signed-in
session instead of a bearer token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import orjson
from starlette.requests import Request
from starlette.responses import Response

from aidgraph.graphql_http import GraphQLEndpoint
from auth.gate import PURPOSE_HEADER, Identified, SecuredGate
from auth.policy import PolicyError
from auth.policy_store import PolicyCache
from auth.principal import Principal

_PERSON: Final = "aidgraph.console.person"


class PersonGate(SecuredGate):
    """The secured gate for a person signed in to the console: the same purposes, policy and audit.

    The person's principal is put on the request by the console page (`ask`), never read from a header,
    and every event names the person, reads included: a page view of personal data is one event.
    """

    def __init__(self) -> None:
        super().__init__(authenticator=None)  # type: ignore[arg-type]  # no token: identify is replaced

    async def identify(self, request: Request) -> Identified | Response:
        principal: Principal = request.scope[_PERSON]
        policies: PolicyCache = request.state.policies
        try:
            return Identified(principal, policies.current())
        except PolicyError:
            return Identified(principal, None, policy_broken=True)

    def actor_of(self, request: Request, principal: Principal, operation: Any | None) -> str | None:
        return str(request.scope["aidgraph.console.actor"])


@dataclass(frozen=True)
class Answer:
    """The endpoint's answer, read back: its status, `data`, `errors` and the error codes among them."""

    status: int
    data: dict[str, Any] | None
    errors: list[dict[str, Any]]

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(str(error.get("extensions", {}).get("code", "ERROR")) for error in self.errors)

    @property
    def unavailable(self) -> bool:
        return self.status == 503

    @property
    def current(self) -> dict[str, Any] | None:
        """What a CONFLICT says is current (version, status), for the page to show in place of the change."""
        for error in self.errors:
            current = error.get("extensions", {}).get("current")
            if isinstance(current, dict):
                return current
        return None


async def ask(
    endpoint: GraphQLEndpoint,
    request: Request,
    principal: Principal,
    *,
    actor: str,
    purpose: str,
    query: str,
    variables: dict[str, Any] | None = None,
) -> Answer:
    """`query` as the person `actor` (their `principal`) for `purpose`, through the GraphQL endpoint."""
    body = orjson.dumps({"query": query, "variables": variables or {}})
    scope = {
        "type": "http",
        "asgi": request.scope.get("asgi", {"version": "3.0"}),
        "http_version": "1.1",
        "method": "POST",
        "scheme": request.url.scheme,
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", b"application/json"),
            (b"accept", b"application/json"),
            (PURPOSE_HEADER.encode(), purpose.encode("ascii")),
        ],
        "client": request.scope.get("client"),
        "server": request.scope.get("server"),
        "state": dict(request.scope.get("state", {})),  # the hub's store, policies, audit writer, threads
        _PERSON: principal,
        "aidgraph.console.actor": actor,
    }
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    response = await endpoint.handle(Request(scope, receive))
    payload = orjson.loads(bytes(response.body)) if response.body else {}
    return Answer(response.status_code, payload.get("data"), list(payload.get("errors", [])))
