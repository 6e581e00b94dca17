"""The unified GraphQL schema (strawberry): one Query over every department's records."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import strawberry
from strawberry.extensions import ParserCache, ValidationCache

from schema.query import Query


def create_schema(extensions: Sequence[Any] = ()) -> strawberry.Schema:
    """Parsing and validating a large document costs milliseconds: both are always cached (DESIGN §7)."""
    return strawberry.Schema(query=Query, extensions=[ParserCache, ValidationCache, *extensions])


def sdl() -> str:
    return create_schema().as_str() + "\n"
