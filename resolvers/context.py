"""The typed context every resolver receives: the request's store connection, record cache and access."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa
from graphql import GraphQLError

from adapters.base import FileSpec
from adapters.sources import RecordSource, SourceUnavailable
from adapters.store import Record, StoreSource
from auth.access import Access
from resolvers.cache import RecordCache


class RequestConnection:
    """One pooled store connection per request, opened on first use and closed when it ends.

    Reads run in autocommit: a read-only request needs no BEGIN/ROLLBACK round trips.
    """

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._connection: sa.Connection | None = None

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def __call__(self) -> sa.Connection:
        if self._connection is None:
            self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Context:
    connection: RequestConnection
    cache: RecordCache
    access: Access

    @classmethod
    def create(
        cls, engine: sa.Engine, live_sources: Mapping[str, RecordSource], departments: list[str], access: Access
    ) -> Context:
        """Departments with a live source are read from it; all others from the hub's store."""
        connection = RequestConnection(engine)
        store = StoreSource(connection)
        sources = {name: live_sources.get(name, store) for name in departments}
        return cls(connection=connection, cache=RecordCache(sources), access=access)

    def records(self, spec: FileSpec, by: str, key: str | None) -> list[Record]:
        """Records for a resolver; a failed department becomes an error on that field only."""
        try:
            return self.cache.get(spec, by, key)
        except SourceUnavailable as error:
            raise GraphQLError(
                str(error), extensions={"code": "SOURCE_UNAVAILABLE", "department": error.department}
            ) from None
