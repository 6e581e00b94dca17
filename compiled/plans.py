"""Compiled plans: one per registered operation and access profile, made once and kept by the worker.

A registered operation's document never changes (its id is its hash), so its shape is worked out
once (compiled/shape.py); an access profile (roles, purpose, policy version) fixes everything the
policy decides before a value is seen. The plan is kept under both: a policy approved since is a new
version, so a new key, and the worker's policy cache (auth.policy_store) changes version within its
5 s, as it does for the executor. Old plans fall out of the bounded cache.

An operation the compiler does not follow runs through the executor, as unregistered text does; the
reason is kept with its key (so it is found once, not per request), counted in the metrics
(`aidgraph_execution_paths`, auth/metrics.py) and written once to the log, by id and reason, never by value.
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
from auth.access import Access
from compiled.runner import Run
from compiled.shape import Shape, Unsupported, shape_of

log = logging.getLogger(__name__)
CACHE_SIZE = 256  # (operation, access profile) pairs kept per worker
COMPILED = "compiled"
EXECUTOR = "executor"


@dataclass(frozen=True)
class ProfileKey:
    """What a plan is made for: the operation, and everything of the caller the policy decides by."""

    document_id: str
    operation_name: str | None
    roles: frozenset[str]
    purpose: str | None
    policy_version: int | None

    @classmethod
    def of(cls, document_id: str, operation_name: str | None, access: Access) -> ProfileKey:
        roles = access.principal.roles if access.principal is not None else frozenset()
        return cls(document_id, operation_name, frozenset(roles), access.purpose, access.policy_version)


@dataclass(frozen=True)
class Plan:
    key: ProfileKey
    shape: Shape


class CompiledPlans:
    """The worker's plans, made on first use; `plan()` is None for an operation that runs on the executor."""

    def __init__(self, schema: Any, *, size: int = CACHE_SIZE) -> None:
        self._schema = schema  # the hub's strawberry schema (schema.HubSchema)
        self._size = size
        self._plans: OrderedDict[ProfileKey, Plan] = OrderedDict()
        self._shapes: dict[tuple[str, str | None], Shape | str] = {}  # a shape, or why there is none
        self._lock = threading.Lock()

    @property
    def graphql_schema(self) -> GraphQLSchema:
        schema: GraphQLSchema = self._schema._schema  # strawberry offers no accessor for its graphql-core schema
        return schema

    def plan(self, document_id: str, text: str, operation_name: str | None, access: Access) -> Plan | None:
        key = ProfileKey.of(document_id, operation_name, access)
        with self._lock:
            found = self._plans.get(key)
            if found is not None:
                self._plans.move_to_end(key)
                return found
        shape = self._shape(document_id, text, operation_name)
        if isinstance(shape, str):
            metrics.execution_path(EXECUTOR, shape)
            return None
        made = Plan(key, shape)
        with self._lock:
            self._plans[key] = made
            while len(self._plans) > self._size:
                self._plans.popitem(last=False)
        return made

    def _shape(self, document_id: str, text: str, operation_name: str | None) -> Shape | str:
        wanted = (document_id, operation_name)
        known = self._shapes.get(wanted)
        if known is not None:
            return known
        document = parse(text)
        found: Shape | str
        if self._schema.document_errors(document):
            found = "invalid"  # the executor answers it, with the errors a request would get
        else:
            try:
                found = shape_of(self.graphql_schema, document, operation_name)
            except Unsupported as reason:
                found = str(reason)
                log.info("registered operation %s (%s) runs on the executor: %s", document_id, operation_name, reason)
        self._shapes[wanted] = found
        return found

    async def execute(self, plan: Plan, context: Any, variables: dict[str, Any] | None) -> ExecutionResult | None:
        """The answer as the executor would give it; None when the variables do not coerce (the executor
        then answers, with its own words for what is wrong with them)."""
        shape = plan.shape
        coerced = get_variable_values(self.graphql_schema, shape.operation.variable_definitions or (), variables or {})
        if isinstance(coerced, list):
            metrics.execution_path(EXECUTOR, "variables")
            return None
        run = Run(self.graphql_schema, shape, context, coerced)
        data = await run.data()
        metrics.execution_path(COMPILED)
        errors: list[GraphQLError] | None = run.errors or None
        return ExecutionResult(data=data, errors=errors)
