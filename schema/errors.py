"""A request's errors as they leave the hub: what the client is told, and what the log is told.

Errors raised on purpose (a GraphQLError, usually with `extensions.code`) reach the client as they
are: they say what was wrong with the request, and quote only what the client sent. Anything else
is a bug or an outage whose text may expose internals (statements, hosts, values), and so is a
live department that fails: the client gets a plain message and the request's id, the log gets the
detail under that id, and never the document, its variables or an exception's message (see
auth.request_log).

A document that was not executed because it did not parse or validate says which, in
`extensions.code` (the limits' own refusals keep `QUERY_TOO_COMPLEX`).

The hub's own store being away (adapters/outage.py) fails the whole request, not a field: the
endpoint answers it 503 `STORE_UNAVAILABLE` (aidgraph/admission.py), nothing of a half-read answer.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, TypeVar

from graphql import FieldNode, GraphQLError, GraphQLSyntaxError

from adapters.sources import SourceUnavailable
from auth.request_log import TRACEBACKS, RequestLog

log = logging.getLogger(__name__)
_E = TypeVar("_E", bound=BaseException)

SOURCE_UNAVAILABLE = "SOURCE_UNAVAILABLE"
PARSE_FAILED = "GRAPHQL_PARSE_FAILED"
VALIDATION_FAILED = "GRAPHQL_VALIDATION_FAILED"


def present_errors(
    errors: Sequence[GraphQLError], *, request: RequestLog, unexecuted: bool = False
) -> list[dict[str, Any]]:
    """Every error of a request as the client sees it; a failed department is logged once, however
    many of its fields failed. `unexecuted`: the errors of parsing and validating the document."""
    logged: set[int] = set()
    presented = [_present(error, request, logged) for error in errors]
    if unexecuted:
        for error, shown in zip(errors, presented, strict=True):
            if error.original_error is None and "code" not in (error.extensions or {}):
                code = PARSE_FAILED if isinstance(error, GraphQLSyntaxError) else VALIDATION_FAILED
                shown["extensions"] = {**shown.get("extensions", {}), "code": code}
    return presented


def mask_unexpected_error(error: GraphQLError, *, request: RequestLog) -> dict[str, Any]:
    """One error as the client sees it (`present_errors` for a whole request)."""
    return _present(error, request, set())


def _present(error: GraphQLError, request: RequestLog, logged: set[int]) -> dict[str, Any]:
    original = error.original_error
    extensions = error.extensions or {}
    if extensions.get("code") == SOURCE_UNAVAILABLE:
        return _source_unavailable(error, request, logged)
    if original is None or isinstance(original, GraphQLError) or "code" in extensions:
        return dict(error.formatted)
    log.error(
        "%s: unexpected %s in field %s%s",
        str(request),  # the fields, not the object that holds the document
        type(original).__name__,
        _field_name(error),
        TRACEBACKS.of(original),
    )
    masked: dict[str, Any] = {
        "message": f"internal error (request {request.request_id})",
        "extensions": {"code": "INTERNAL_SERVER_ERROR", "requestId": request.request_id},
    }
    if error.locations is not None:
        masked["locations"] = [location.formatted for location in error.locations]
    if error.path is not None:
        masked["path"] = error.path
    return masked


def _source_unavailable(error: GraphQLError, request: RequestLog, logged: set[int]) -> dict[str, Any]:
    """The department named and the request id given; what went wrong (the driver's text, naming
    tables and statements) only in the log, under that id."""
    failure = _cause(error, SourceUnavailable)
    if failure is not None and id(failure) not in logged:
        logged.add(id(failure))
        log.warning("%s: the %s department's source failed: %s", str(request), failure.department, failure.detail)
    presented = dict(error.formatted)
    presented["message"] = f"{error.message} (request id {request.request_id})"
    presented["extensions"] = {**(error.extensions or {}), "requestId": request.request_id}
    return presented


def _cause(error: BaseException, kind: type[_E]) -> _E | None:
    """The exception of `kind` behind a GraphQL error, through the errors graphql-core wraps it in."""
    current: BaseException | None = error
    while current is not None and not isinstance(current, kind):
        current = current.original_error if isinstance(current, GraphQLError) else None
    return current


def _field_name(error: GraphQLError) -> str:
    """The field's name in the schema: the error's path holds the client's aliases, free text."""
    node = error.nodes[-1] if error.nodes else None
    return node.name.value if isinstance(node, FieldNode) else "(none)"
