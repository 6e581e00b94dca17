"""The unified GraphQL schema (strawberry): one Query over every department's records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry

from schema.analysis import AnalysisInContext
from schema.hardening import DEFAULT_LIMITS, ExecutorWithoutSuggestions, Limits, schema_extensions
from schema.query import Query

__all__ = ["Limits", "create_schema", "sdl"]


def create_schema(
    extensions: Sequence[Any] = (), *, limits: Limits = DEFAULT_LIMITS, development: bool = False
) -> strawberry.Schema:
    """Parsing and validating a large document costs milliseconds: both are always cached (DESIGN §7),
    and the limits are checked while parsing and validating, so a repeated document is checked once.
    Outside development, introspection is refused and error messages suggest no field names."""
    return strawberry.Schema(
        query=Query,
        extensions=[*schema_extensions(limits, development=development), AnalysisInContext, *extensions],
        execution_context_class=None if development else ExecutorWithoutSuggestions,
    )


def sdl() -> str:
    return create_schema().as_str() + "\n"
