"""A mutation over /graphql: its change and its audit event are one transaction (docs/access.md).

The endpoint (aidgraph/graphql_http.py) reads the keys the event needs before the transaction takes the
store's lock, executes the mutation on a writing connection, and then, still in that transaction, has
the gate record the event and commits; if the event cannot be written the transaction rolls back and
the answer is 503. The extensions the gate returns ride on the execution result to the answer.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import Response
from strawberry.types.execution import ExecutionResult, PreExecutionError

from aidgraph.admission import cancelled_among, failure_among
from auth.audit import AuditUnavailable, document_hash
from auth.gate import audit_unavailable
from auth.hub_keys import AUDIT_KEY, hub_key
from auth.request_log import TRACEBACKS
from resolvers.context import Context

if TYPE_CHECKING:
    from aidgraph.graphql_gate import Gate, Operation

log = logging.getLogger("aidgraph.graphql_http")

_CHANGE_SETTLED = "aidgraph.change-settled"
"""Where a mutation's execution hands its recorded extensions to the answer (never sent as such)."""


def mutation_keys(engine: sa.Engine, query: str) -> str:
    """The document hash, and the audit key read once, before a mutation's transaction begins."""
    hub_key(engine, AUDIT_KEY)
    return document_hash(engine, query)


def settle_in_transaction(
    gate: Gate, request: Request, operation: Operation, context: Context, result: ExecutionResult
) -> None:
    """Record a mutation that ran without failing in its own transaction, then commit it.

    Raises AuditUnavailable when the event cannot be written: the caller closes the connection
    uncommitted, so the change is rolled back with it."""
    if isinstance(result, PreExecutionError):  # not executed: nothing changed, nothing to record here
        return
    errors = result.errors or []
    if failure_among(errors) is not None or cancelled_among(errors):
        return
    extensions = gate.settle_change(request, operation, context.access, errors, context.connection())
    context.connection.commit()
    result.extensions = {**(result.extensions or {}), _CHANGE_SETTLED: extensions}


def settled_extensions(result: ExecutionResult) -> dict[str, Any]:
    """The extensions a mutation's event was recorded with, taken off the result."""
    return dict((result.extensions or {}).pop(_CHANGE_SETTLED))


def change_unaudited(log_fields: Any, error: AuditUnavailable) -> Response:
    log.error(
        "%s: the audit event of a change could not be written; nothing was changed%s",
        str(log_fields),
        TRACEBACKS.of(error),
    )
    return audit_unavailable()
