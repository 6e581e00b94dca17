"""The unified GraphQL schema (strawberry): one Query over every department's records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from graphql import DocumentNode, GraphQLError
from strawberry.types import ExecutionContext

from schema.analysis import AnalysisInContext
from schema.hardening import DEFAULT_LIMITS, ExecutorWithoutSuggestions, Limits, document_errors, schema_extensions

__all__ = ["HubSchema", "Limits", "create_schema", "sdl"]


class HubSchema(strawberry.Schema):
    """strawberry's Schema, logging no errors: strawberry logs each error's text, which quotes the
    document (ids in its literals, values of its variables). Whoever runs a document presents and
    logs its errors; over HTTP that is `schema.hardening.present_errors`, under the request's id."""

    def __init__(self, *args: Any, limits: Limits = DEFAULT_LIMITS, development: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.limits = limits  # kept, so a document can be checked as this schema's requests are
        self.development = development

    def process_errors(self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None) -> None:
        return None

    def document_errors(self, document: DocumentNode) -> list[GraphQLError]:
        """What a request sending `document` would be refused for before execution (schema.hardening)."""
        return document_errors(self._schema, document, limits=self.limits, development=self.development)


def create_schema(
    extensions: Sequence[Any] = (), *, limits: Limits = DEFAULT_LIMITS, development: bool = False
) -> HubSchema:
    """Parsing and validating a large document costs milliseconds: both are always cached (DESIGN §7),
    and the limits are checked while parsing and validating, so a repeated document is checked once.
    Outside development, introspection is refused and error messages suggest no field names.

    The types are imported here, not with the package: Person and Household take their department
    fields from the parts registered by then (schema.parts)."""
    from schema.mutation import Mutation
    from schema.query import Query

    return HubSchema(
        query=Query,
        mutation=Mutation,
        extensions=[*schema_extensions(limits, development=development), AnalysisInContext, *extensions],
        execution_context_class=None if development else ExecutorWithoutSuggestions,
        limits=limits,
        development=development,
    )


def sdl() -> str:
    return create_schema().as_str() + "\n"
