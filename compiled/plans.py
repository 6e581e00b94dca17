"""Compiled plans: one per registered operation, made on its first request and kept by the worker.

A registered operation's document never changes (its id is its hash), so its shape is worked out
once (compiled/shape.py) and its encoders written once (compiled/encoder.py). The plan holds nothing
of the caller: the policy is applied where each object is made, by the same `Access.apply` the
executor's resolvers call, with the request's own view (roles, purpose, the policy version live
now). So one plan serves every access profile, and a policy approved since needs no plan made
again: it reaches the compiled path exactly when, and as, it reaches the executor (within the
policy cache's 5 s). Writing the policy's decisions into the plan would be a second form of the
policy to keep in step; what it would save (making each object) is a small part of a request
(docs/compiled.md has the profile).

An operation the compiler does not follow runs through the executor, as unregistered text does; the
reason is kept with the operation (found once, not per request), counted in the metrics
(`aidgraph_execution_paths`, auth/metrics.py) and written once to the log, by id and reason, never a value.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLSchema, parse
from graphql.execution.values import get_variable_values
from strawberry.types.execution import ExecutionResult

from auth import metrics
from compiled.encoder import write_encoders
from compiled.runner import Run
from compiled.shape import Shape, Unsupported, shape_of

log = logging.getLogger(__name__)
CACHE_SIZE = 256  # operations kept per worker, the least recently used dropped first
COMPILED = "compiled"
EXECUTOR = "executor"
INVALID = "invalid"  # the document does not pass the hub's checks: the executor answers with its errors
VARIABLES = "variables"  # the variables do not coerce: the executor answers with its words for why
FAILED = "failed"  # the compiler itself failed on the operation (a fault of ours, logged once)


@dataclass(frozen=True)
class Plan:
    shape: Shape  # its encoders written


class CompiledPlans:
    """The worker's plans; `plan()` is None for an operation that runs on the executor."""

    def __init__(self, schema: Any, *, size: int = CACHE_SIZE) -> None:
        self._schema = schema  # the hub's strawberry schema (schema.HubSchema)
        self._size = size
        self._made: OrderedDict[tuple[str, str | None], Plan | str] = OrderedDict()  # a plan, or why none
        self._lock = threading.Lock()

    @property
    def graphql_schema(self) -> GraphQLSchema:
        schema: GraphQLSchema = self._schema._schema  # strawberry offers no accessor for its graphql-core schema
        return schema

    def plan(self, document_id: str, text: str, operation_name: str | None) -> Plan | None:
        wanted = (document_id, operation_name)
        with self._lock:
            found = self._made.get(wanted)
            if found is not None:
                self._made.move_to_end(wanted)
        if found is None:
            found = self._make(document_id, text, operation_name)
            with self._lock:
                self._made[wanted] = found
                while len(self._made) > self._size:
                    self._made.popitem(last=False)
        if isinstance(found, str):
            metrics.execution_path(EXECUTOR, found)
            return None
        return found

    def _make(self, document_id: str, text: str, operation_name: str | None) -> Plan | str:
        document = parse(text)
        if self._schema.document_errors(document):
            return INVALID
        try:
            shape = shape_of(self.graphql_schema, document, operation_name)
            write_encoders(shape.steps)
            return Plan(shape)
        except Unsupported as unsupported:
            log.info("registered operation %s (%s) runs on the executor: %s", document_id, operation_name, unsupported)
            return unsupported.reason
        except Exception as error:  # a shape the compiler mistakes: the executor answers, and it is said once
            log.error("registered operation %s (%s) could not be compiled (%s): it runs on the executor",
                      document_id, operation_name, type(error).__name__)  # fmt: skip
            return FAILED

    async def execute(self, plan: Plan, context: Any, variables: dict[str, Any] | None) -> ExecutionResult | None:
        """The answer as the executor would give it; None when the variables do not coerce (the executor
        then answers, with its own words for what is wrong with them)."""
        shape = plan.shape
        coerced = get_variable_values(self.graphql_schema, shape.operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            metrics.execution_path(EXECUTOR, VARIABLES)
            return None
        run = Run(self.graphql_schema, shape, context, coerced)
        data = await run.data()
        metrics.execution_path(COMPILED)
        errors: list[GraphQLError] | None = run.errors or None
        return ExecutionResult(data=data, errors=errors)
