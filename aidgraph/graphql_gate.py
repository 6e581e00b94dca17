"""What the GraphQL endpoint asks of whoever guards it: the operation a request runs, and the gate.

The endpoint (aidgraph/graphql_http.py) only moves the request along: who may ask, what they may
see and what is recorded of it are the gate's (auth.gate's `SecuredGate`; `OpenGate` for the
benchmark's open baseline). Kept apart so that the endpoint's helpers (the mutation's transaction,
the export) name the gate without importing the endpoint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response

from aidgraph.operation_request import bad_request
from auth.access import Access
from auth.disclosure import DisclosureProfile


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None
    profile: DisclosureProfile | None = None  # from the request's one analysis of the document
    mutation: bool = False  # it changes the store: one transaction with its audit event (auth.gate)
    document_hash: str | None = None  # a mutation's, made before its transaction begins
    document_id: str | None = None  # the registered operation it is (registered/); None: unregistered text


class Gate(Protocol):
    """Who may run an operation, and what is seen and recorded of it (auth.gate: tokens, policy, audit)."""

    async def identify(self, request: Request) -> object:
        """Who asks (opaque to the endpoint), or the Response refusing them; asked before the body is read.

        A caller without a valid token learns nothing else, and costs no more than the token's check.
        """
        ...

    def client_of(self, identified: Any) -> str | None:
        """The client asking, whose registered operations it may send (None: only those of every client)."""
        ...

    async def admit(self, request: Request, identified: Any, operation: Operation | None) -> Access | Response:
        """The request's access, or the response refusing it (recorded by the gate, with the operation).

        Asked before a malformed body is answered: a refused caller learns nothing of its body.
        """
        ...

    async def settle(self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError]) -> dict:
        """After execution: record what was disclosed (raising if it cannot) and return the extensions."""
        ...

    async def refuse(self, request: Request, access: Access, *, operation: str, code: str, message: str) -> Response:
        """An admitted caller refused by the endpoint itself: recorded, and answered (503 if it cannot be)."""
        ...

    def settle_change(
        self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError], connection: Any
    ) -> dict:
        """After a mutation, in its transaction: record it there (raising if it cannot) and return the extensions."""
        ...


class OpenGate:
    """Everything visible, nothing recorded: only for benchmarks' open baseline and tests of data shape.

    Never reachable from the command line or the environment (`create_app(..., open_access=True)`).
    """

    async def identify(self, request: Request) -> object:
        return None

    def client_of(self, identified: Any) -> str | None:
        return None

    async def admit(self, request: Request, identified: Any, operation: Operation | None) -> Access:
        return Access.unrestricted()

    async def settle(self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError]) -> dict:
        return {}

    async def refuse(self, request: Request, access: Access, *, operation: str, code: str, message: str) -> Response:
        return bad_request(message, 403, code)

    def settle_change(
        self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError], connection: Any
    ) -> dict:
        return {}
