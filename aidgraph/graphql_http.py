"""GraphQL over HTTP: POST with a JSON body only, executed by the schema, answered with orjson.

A thin endpoint rather than strawberry's generic view: the hub accepts one transport (no GET,
no multipart, no subscriptions), and each request's store connection is closed in one place.

The answer's media type follows the request's `Accept`, as the GraphQL over HTTP spec has it:
`application/json` (also without `Accept`) answers every well-formed request 200, errors in the
body; `application/graphql-response+json` answers a request error (a document that does not
parse or validate, an operation that cannot be chosen) 400. A request error has no `data`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import sqlalchemy as sa
import strawberry
from graphql import GraphQLError
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import PreExecutionError

from adapters.catalog import DEPARTMENTS
from adapters.outage import store_unavailable
from adapters.sources import RecordSource
from auth.access import Access
from auth.audit import AuditUnavailable
from auth.hub_keys import DOCUMENT_KEY, HubKeyUnavailable, hub_key
from auth.request_log import describe_exception, request_log_of
from auth.tracing import span
from resolvers.context import Context
from resolvers.lookups import MissLimit
from schema.analysis import analyse
from schema.errors import (
    AUDIT_UNAVAILABLE,
    RETRY_AFTER_SECONDS,
    STORE_UNAVAILABLE,
    present_errors,
    store_outage,
    unavailable,
)

_DEPARTMENTS = list(DEPARTMENTS)
log = logging.getLogger(__name__)


JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


def _json(payload: Mapping[str, Any], status: int = 200, media_type: str = JSON) -> Response:
    return Response(orjson.dumps(payload), status_code=status, media_type=f"{media_type}; charset=utf-8")


def answer_media_type(accept: str | None) -> str | None:
    """The media type to answer in, by the request's `Accept`; None when it accepts none the hub gives.

    No `Accept`, `*/*` and `application/*` get `application/json`, what clients older than the spec's
    own media type expect. Ties in quality go to the first listed."""
    if accept is None or not accept.strip():
        return JSON
    ranges: list[tuple[float, int, str]] = []
    for position, item in enumerate(accept.split(",")):
        media, *parameters = (part.strip().lower() for part in item.split(";"))
        quality = 1.0
        for parameter in parameters:
            name, _, value = parameter.partition("=")
            if name.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if quality > 0:
            ranges.append((-quality, position, media))
    for _, _, media in sorted(ranges):
        if media == GRAPHQL_RESPONSE:
            return GRAPHQL_RESPONSE
        if media in (JSON, "application/*", "*/*"):
            return JSON
    return None


def bad_request(message: str, status: int = 400, code: str = "BAD_REQUEST") -> Response:
    return _json({"errors": [{"message": message, "extensions": {"code": code}}]}, status)


async def read_operation(request: Request) -> tuple[str, dict[str, Any] | None, str | None] | Response:
    """The query, variables and operation name of a request, or the response refusing it."""
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        return bad_request("send the GraphQL request as a JSON body (Content-Type: application/json)", 415)
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError as error:
        return bad_request(f"the body is not valid JSON: {error}")
    if not isinstance(body, dict) or not isinstance(body.get("query"), str):
        return bad_request('the JSON body needs a "query" string')
    variables = body.get("variables")
    if variables is not None and not isinstance(variables, dict):
        return bad_request('"variables" must be a JSON object')
    operation_name = body.get("operationName")
    if operation_name is not None and not isinstance(operation_name, str):
        return bad_request('"operationName" must be a string')
    return body["query"], variables, operation_name


@dataclass(frozen=True)
class Operation:
    query: str
    variables: dict[str, Any] | None
    operation_name: str | None


class Gate(Protocol):
    """Who may run an operation, and what is seen and recorded of it (auth.gate: tokens, policy, audit)."""

    async def admit(self, request: Request, operation: Operation | None) -> Access | Response:
        """The request's access, or the response refusing it (recorded by the gate).

        Asked before a malformed body is answered: a caller without a valid token learns nothing else.
        """
        ...

    async def settle(self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError]) -> dict:
        """After execution: record what was disclosed (raising if it cannot) and return the extensions."""
        ...


class OpenGate:
    """Everything visible, nothing recorded: only for benchmarks' open baseline and tests of data shape.

    Never reachable from the command line or the environment (`create_app(..., open_access=True)`).
    """

    async def admit(self, request: Request, operation: Operation | None) -> Access:
        return Access.unrestricted()

    async def settle(self, request: Request, operation: Operation, access: Access, errors: list[GraphQLError]) -> dict:
        return {}


class GraphQLEndpoint:
    def __init__(self, schema: strawberry.Schema, gate: Gate, *, misses: MissLimit | None = None) -> None:
        self._schema = schema
        self._gate = gate
        self._misses = misses  # look-ups that found nothing, per client (resolvers/lookups.py)

    async def handle(self, request: Request) -> Response:
        try:
            return await self._handle(request)
        except Exception as error:  # the store away outside execution (a token's client, the policy, a refusal's event)
            if not (isinstance(error, AuditUnavailable) or store_unavailable(error)):
                raise
            code = AUDIT_UNAVAILABLE if isinstance(error, AuditUnavailable) else STORE_UNAVAILABLE
            return _retry_later(unavailable(code, error, request=request_log_of(request)))

    async def _handle(self, request: Request) -> Response:
        parsed = await read_operation(request)
        operation = Operation(*parsed) if not isinstance(parsed, Response) else None
        access = await self._gate.admit(request, operation)
        if isinstance(access, Response):
            return access
        if operation is None:
            assert isinstance(parsed, Response)
            return parsed
        media_type = answer_media_type(request.headers.get("accept"))
        if media_type is None:
            return bad_request(
                f"the hub answers in {GRAPHQL_RESPONSE} or {JSON}; Accept allows neither", 406, "NOT_ACCEPTABLE"
            )
        # A request error (nothing executed): 400 in the spec's own media type, 200 in plain JSON.
        request_error_status = 400 if media_type == GRAPHQL_RESPONSE else 200
        engine: sa.Engine = request.state.engine
        live_sources: dict[str, RecordSource] = request.state.live_sources
        log_fields = request_log_of(request)
        # One analysis per (document, operation), cached: the fetch plans, limits and disclosure profile.
        with span("analyse"):
            analysis = analyse(self._schema, operation.query, operation.operation_name)
        # The operation's name as its document spells it; an analysis that walked no operation (the
        # document does not parse, or holds no such one) carries the name the client asked for instead.
        walked = analysis.root_fields > 0 and not analysis.unchosen
        log_fields.describe(
            query=operation.query,
            operation_name=operation.operation_name,
            operation=analysis.operation_name if walked else None,
            document_key=_document_key(engine),
        )
        if analysis.unchosen:  # strawberry would run the first of several operations
            log_fields.outcome = "refused"
            return _operation_unknown(operation.operation_name, request_error_status, media_type)
        context = Context.create(engine, live_sources, _DEPARTMENTS, access, analysis=analysis, misses=self._misses)
        try:
            with span("execute"):
                result = await self._schema.execute(
                    operation.query,
                    variable_values=operation.variables,
                    context_value=context,
                    operation_name=operation.operation_name,
                )
        except CannotGetOperationTypeError:  # a document of fragments only
            log_fields.outcome = "refused"
            return _operation_unknown(operation.operation_name, request_error_status, media_type)
        finally:
            context.connection.close()
        errors = result.errors or []
        outage = store_outage(errors)
        if outage is not None:  # nothing of a half-read answer is sent, nor audited
            return _retry_later(unavailable(STORE_UNAVAILABLE, outage, request=log_fields))
        try:
            extensions = await self._gate.settle(request, operation, access, errors)
        except AuditUnavailable as error:
            log.error(
                "%s: the audit event could not be written; the answer is withheld\n%s",
                str(log_fields),
                describe_exception(error),
            )
            message = "the audit trail is unavailable, so nothing can be returned; try again later"
            return _retry_later({"errors": [{"message": message, "extensions": {"code": AUDIT_UNAVAILABLE}}]})
        unexecuted = isinstance(result, PreExecutionError)
        # Before any field ran (parsing, validation, the variables' values): no field has a path.
        request_error = result.data is None and bool(errors) and all(error.path is None for error in errors)
        payload: dict[str, Any] = {} if request_error else {"data": result.data}
        if errors:
            payload["errors"] = present_errors(errors, request=log_fields, unexecuted=unexecuted)
            log_fields.outcome = "refused" if request_error else "partial"
            log_fields.codes = _codes(payload["errors"])
        if extensions:
            payload["extensions"] = extensions
        return _json(payload, request_error_status if request_error else 200, media_type)


def _retry_later(payload: Mapping[str, Any]) -> Response:
    """503: the store or the trail is away; the same request may succeed once it is back."""
    response = _json(payload, 503)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _operation_unknown(name: str | None, status: int, media_type: str) -> Response:
    """No operation run: nothing read, nothing to audit. The message quotes only the client's own name."""
    if name is None:
        message = "the document does not hold exactly one operation: name the one to run in operationName"
    else:
        message = f'the document holds no operation named "{name}"'
    return _json({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, status, media_type)


def _codes(presented: list[dict[str, Any]]) -> tuple[str, ...]:
    """The errors' codes, for the access line: the hub's own words, never a message."""
    codes = {str(error.get("extensions", {}).get("code", "ERROR")) for error in presented}
    return tuple(sorted(code for code in codes if code.isupper() and len(code) <= 40))


def _document_key(engine: sa.Engine) -> bytes | None:
    """The key of the document hash a log line carries; a line without it still names the request."""
    try:
        return hub_key(engine, DOCUMENT_KEY)
    except HubKeyUnavailable:
        return None
