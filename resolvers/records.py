"""Loading a record list for a resolver: a failed department becomes an error on its field only."""

from __future__ import annotations

from graphql import GraphQLError

from adapters.base import FileSpec
from adapters.sources import SourceUnavailable
from adapters.store import Record
from resolvers.context import Context


async def records(context: Context, spec: FileSpec, *, by: str, key: str | None) -> list[Record]:
    if key is None:
        return []
    try:
        return await context.loaders.records(spec, by).load(key)
    except SourceUnavailable as error:
        raise GraphQLError(
            str(error), extensions={"code": "SOURCE_UNAVAILABLE", "department": error.department}
        ) from None


def bad_input(message: str) -> GraphQLError:
    return GraphQLError(message, extensions={"code": "BAD_USER_INPUT"})
