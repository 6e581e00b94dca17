"""GraphQL over HTTP: POST with a JSON body only, executed by the schema, answered with orjson.

A thin endpoint rather than strawberry's generic view: the hub accepts one transport (no GET,
no multipart, no subscriptions), and each request's store connection is closed in one place.

Nothing costly happens before the caller is known: the token is checked before the body is read,
the body is read up to its limit only, and the document is parsed and analysed once, in an execution
thread, as the execution itself is (aidgraph/execution.py): the event loop only moves bytes.

The answer's media type follows the request's `Accept`, as the GraphQL over HTTP spec has it:
`application/json` (also without `Accept`) answers every well-formed request 200, errors in the
body; `application/graphql-response+json` answers a request error (a document that does not
parse or validate, an operation that cannot be chosen) 400. A request error has no `data`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
import strawberry
from starlette.requests import Request
from starlette.responses import Response
from strawberry.schema.exceptions import CannotGetOperationTypeError
from strawberry.types.execution import ExecutionResult, PreExecutionError

from adapters.catalog import DEPARTMENTS
from aidgraph.admission import (
    InFlight,
    cancelled_among,
    failure_among,
    overloaded,
    statement_timed_out,
    store_failure,
    store_failure_response,
    timed_out,
)
from aidgraph.execution import ExecutionThreads
from aidgraph.graphql_gate import Gate, Operation
from aidgraph.mutation_http import change_unaudited, mutation_keys, settle_in_transaction, settled_extensions
from aidgraph.operation_request import (
    GRAPHQL_RESPONSE,
    JSON,
    NOT_REGISTERED,
    Chosen,
    answer_media_type,
    bad_request,
    choose,
    json_response,
    read_operation,
    registered_only,
)
from aidgraph.settings import DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_REQUEST_BYTES, DEFAULT_REQUEST_TIMEOUT
from auth import metrics
from auth.access import Access
from auth.audit import AuditUnavailable
from auth.gate import audit_unavailable
from auth.hub_keys import DOCUMENT_KEY, HubKeyUnavailable, hub_key
from auth.limiter import MissLimit
from auth.request_log import TRACEBACKS, request_log_of
from auth.tracing import span
from compiled.plans import EXECUTOR, CompiledPlans, Plan
from registered.documents import document_id
from resolvers.context import Context
from schema.analysis import Analysis, analyse, analysed
from schema.errors import present_errors

_DEPARTMENTS = list(DEPARTMENTS)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RequestBounds:
    """The per-request bounds of aidgraph.settings, as the endpoints use them."""

    max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES
    request_timeout: float = DEFAULT_REQUEST_TIMEOUT
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT


class GraphQLEndpoint:
    def __init__(
        self,
        schema: strawberry.Schema,
        gate: Gate,
        *,
        bounds: RequestBounds | None = None,
        in_flight: InFlight | None = None,
        misses: MissLimit | None = None,
        registered_only: bool = False,
        compiled: bool = True,
    ) -> None:
        """`in_flight`: shared with the worker's other bounded endpoints (the export); `misses`: look-ups
        that found nothing, per client (resolvers/lookups.py); `registered_only`: every client may send
        registered operations only (a client's own registration may ask that of it alone); `compiled`: a
        registered operation runs by its compiled plan where there is one (compiled/)."""
        self._registered_only = registered_only
        self._plans = CompiledPlans(schema) if compiled else None
        self._schema = schema
        self._gate = gate
        self._misses = misses
        self._bounds = bounds or RequestBounds()
        self._in_flight = in_flight or InFlight(self._bounds.max_in_flight)

    @property
    def in_flight(self) -> InFlight:
        return self._in_flight

    async def handle(self, request: Request) -> Response:
        with self._in_flight.slot() as admitted:
            if not admitted:
                return overloaded()
            try:
                # Until the answer is made; writing its audit event is not cut short (the gate shields it).
                async with asyncio.timeout(self._bounds.request_timeout):
                    prepared = await self._prepare(request)
                    if isinstance(prepared, Response):
                        return prepared
                    operation, access, result, media_type = prepared
            except TimeoutError:
                return timed_out(self._bounds.request_timeout)
            except Exception as error:
                failure = store_failure(error)
                if failure is None:
                    raise
                return store_failure_response(failure, error, request=request_log_of(request))
            return await self._settle(request, operation, access, result, media_type)

    async def _prepare(self, request: Request) -> tuple[Operation, Access, ExecutionResult, str] | Response:
        """Identify, read, analyse, admit and execute: the answer's parts, or the response that ends it early."""
        identified = await self._gate.identify(request)
        if isinstance(identified, Response):
            return identified
        asked = await read_operation(request, max_bytes=self._bounds.max_request_bytes)
        threads: ExecutionThreads = request.state.threads
        parsed: Chosen | Response
        if isinstance(asked, Response):
            parsed = asked
        else:  # a registered operation's id becomes its text, for a client that may use it only
            registered = getattr(request.state, "registered", None)
            client_id, accept = self._gate.client_of(identified), request.headers.get("accept")
            wanted = asked.document_id or document_id(asked.query or "")
            if registered is None or registered.answers_from_memory(wanted, client_id=client_id):
                # a look-up in memory: each hand-off to a thread and back costs more than it (DESIGN §7)
                parsed = choose(asked, registered, client_id=client_id, accept=accept, from_memory=True)
            else:
                parsed = await threads.call(lambda: choose(asked, registered, client_id=client_id, accept=accept))
        operation: Operation | None = None
        analysis: Analysis | None = None
        if not isinstance(parsed, Response):
            # One analysis per (document, operation), cached: the fetch plans, limits and disclosure profile.
            with span("analyse"):
                analysis = analysed(self._schema, parsed.query, parsed.operation_name)
                if analysis is None:
                    analysis = await threads.call(analyse, self._schema, parsed.query, parsed.operation_name)
            operation = Operation(
                parsed.query,
                parsed.variables,
                parsed.operation_name,
                analysis.profile,
                mutation=analysis.mutation,
                document_id=parsed.document_id,
            )
        access = await self._gate.admit(request, identified, operation)
        if isinstance(access, Response):
            return access
        if operation is None or analysis is None:
            assert isinstance(parsed, Response)
            return parsed
        media_type = answer_media_type(request.headers.get("accept"))
        if media_type is None:
            return bad_request(
                f"the hub answers in {GRAPHQL_RESPONSE} or {JSON}; Accept allows neither", 406, "NOT_ACCEPTABLE"
            )
        # A request error (nothing executed): 400 in the spec's own media type, 200 in plain JSON.
        request_error_status = 400 if media_type == GRAPHQL_RESPONSE else 200
        log_fields = request_log_of(request)
        # The operation's name as its document spells it; an analysis that walked no operation (the
        # document does not parse, or holds no such one) carries the name the client asked for instead.
        walked = analysis.root_fields > 0 and not analysis.unchosen
        log_fields.describe(
            query=operation.query,
            operation_name=operation.operation_name,
            operation=analysis.operation_name if walked else None,
            document_key=_document_key(request.state.engine),
            document_id=operation.document_id,
        )
        refused_text = registered_only(access.principal, hub_wide=self._registered_only)
        if operation.document_id is None and refused_text is not None:
            name = analysis.operation_name if walked else None
            return await self._gate.refuse(
                request, access, operation=name or "unregistered", code=NOT_REGISTERED, message=refused_text
            )
        if analysis.unchosen:  # strawberry would run the first of several operations
            log_fields.outcome = "refused"
            return _operation_unknown(operation.operation_name, request_error_status, media_type)
        if operation.mutation:
            if analysis.root_fields != 1:
                message = "a mutation request makes one change: send one mutation field per request"
                return await self._gate.refuse(
                    request,
                    access,
                    operation=analysis.operation_name or "mutation",
                    code="BAD_REQUEST",
                    message=message,
                )
            # The keys the event needs, read (or made) before the change's transaction holds the store's lock.
            try:
                digest = await threads.call(mutation_keys, request.state.engine, operation.query)
            except AuditUnavailable as error:
                return change_unaudited(log_fields, error)
            operation = dataclasses.replace(operation, document_hash=digest)
        context = Context.create(
            request.state.engine,
            request.state.live_sources,
            _DEPARTMENTS,
            access,
            analysis=analysis,
            misses=self._misses,
            writing=operation.mutation,
        )
        prepared_operation = operation
        try:
            with span("execute"):
                result = await threads.run(lambda: self._execute(context, prepared_operation, request))
        except CannotGetOperationTypeError:  # a document of fragments only
            log_fields.outcome = "refused"
            return _operation_unknown(operation.operation_name, request_error_status, media_type)
        except AuditUnavailable as error:  # a mutation's event: its change was rolled back with it
            return change_unaudited(log_fields, error)
        errors = result.errors or []
        if cancelled_among(errors):  # a statement ran past statement_timeout: the answer would be a torso
            return statement_timed_out()
        failure = failure_among(errors)
        if failure is not None:
            raise failure
        return operation, access, result, media_type

    def _plan(self, operation: Operation) -> Plan | None:
        """The compiled plan of a registered query, if the compiler follows its shape (compiled/)."""
        if operation.mutation or operation.document_id is None or self._plans is None:
            metrics.execution_path(EXECUTOR, "mutation" if operation.mutation else "unregistered")
            return None
        return self._plans.plan(operation.document_id, operation.query, operation.operation_name)

    async def _execute(self, context: Context, operation: Operation, request: Request) -> ExecutionResult:
        """On an execution thread's own loop: the resolvers' synchronous reads block only that thread.

        A mutation's transaction ends here: its event is written in it, then it commits; if the event
        cannot be written, or the store failed, it rolls back (closed uncommitted), so no change is ever
        made without its event."""
        try:
            context.connection()  # taken first: a pool with none free is STORE_BUSY, not a field's error
            plan = self._plan(operation)  # here, on the thread: a plan's first making parses and compiles
            if plan is not None and self._plans is not None:
                compiled = await self._plans.execute(plan, context, operation.variables)
                if compiled is not None:
                    return compiled
            result = await self._schema.execute(
                operation.query,
                variable_values=operation.variables,
                context_value=context,
                operation_name=operation.operation_name,
            )
            if context.connection.writing:
                settle_in_transaction(self._gate, request, operation, context, result)
            return result
        finally:
            context.connection.close()

    async def _settle(
        self,
        request: Request,
        operation: Operation,
        access: Access,
        result: ExecutionResult,
        media_type: str,
    ) -> Response:
        log_fields = request_log_of(request)
        errors = result.errors or []
        try:
            if operation.mutation and not isinstance(result, PreExecutionError):
                extensions = settled_extensions(result)  # recorded in the change's transaction
            else:
                extensions = await self._gate.settle(request, operation, access, errors)
        except AuditUnavailable as error:
            log.error(
                "%s: the audit event could not be written; the answer is withheld%s",
                str(log_fields),
                TRACEBACKS.of(error),
            )
            return audit_unavailable()
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
        request_error_status = 400 if media_type == GRAPHQL_RESPONSE else 200
        return json_response(payload, request_error_status if request_error else 200, media_type)


def _operation_unknown(name: str | None, status: int, media_type: str) -> Response:
    """No operation run: nothing read, nothing to audit. The message quotes only the client's own name."""
    if name is None:
        message = "the document does not hold exactly one operation: name the one to run in operationName"
    else:
        message = f'the document holds no operation named "{name}"'
    return json_response({"errors": [{"message": message, "extensions": {"code": "BAD_REQUEST"}}]}, status, media_type)


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
