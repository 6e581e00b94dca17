"""The typed context every resolver receives: the request's connection, record cache, access, cursors and analysis."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa
from graphql import GraphQLError

from adapters.base import FileSpec
from adapters.sources import RecordSource, SourceUnavailable
from adapters.store import Record, StoreSource
from auth.access import Access
from auth.audit.writer import lock_chain
from auth.hub_keys import CURSOR_KEY, hub_key
from auth.limiter import MissLimit
from resolvers.cache import RecordCache
from resolvers.cursors import Cursors

if TYPE_CHECKING:
    from resolvers.prefetch import FetchPlans


class RequestConnection:
    """One pooled store connection per request, opened on first use and closed when it ends.

    Reads run in autocommit: a read-only request needs no BEGIN/ROLLBACK round trips. A mutation's
    connection (`writing`) is one transaction instead, begun so that it may append its audit event to
    the chain before it commits (auth.audit.writer.lock_chain); closed without `commit`, it rolls back.
    """

    def __init__(self, engine: sa.Engine, *, writing: bool = False) -> None:
        self._engine = engine
        self._writing = writing
        self._connection: sa.Connection | None = None

    @property
    def writing(self) -> bool:
        return self._writing

    @property
    def engine(self) -> sa.Engine:
        return self._engine

    def __call__(self) -> sa.Connection:
        if self._connection is None:
            if self._writing:
                connection = self._engine.connect()
                lock_chain(connection)
                self._connection = connection
            else:
                self._connection = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        return self._connection

    def commit(self) -> None:
        if self._connection is not None:
            self._connection.commit()

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


@dataclass
class Context:
    connection: RequestConnection
    cache: RecordCache
    access: Access
    cursors: Cursors
    analysis: FetchPlans | None = None  # the operation's analysis (schema/analysis.py), made before execution
    misses: MissLimit | None = None  # the worker's limit on look-ups that find nothing (None: unlimited)

    @classmethod
    def create(
        cls,
        engine: sa.Engine,
        live_sources: Mapping[str, RecordSource],
        departments: list[str],
        access: Access,
        *,
        analysis: FetchPlans | None = None,
        misses: MissLimit | None = None,
        writing: bool = False,
    ) -> Context:
        """Departments with a live source are read from it; all others from the hub's store. `writing`: a
        mutation's request, whose connection is one transaction (RequestConnection)."""
        connection = RequestConnection(engine, writing=writing)
        store = StoreSource(connection)
        sources = {name: live_sources.get(name, store) for name in departments}
        # Cursors are bound to the client they are handed to: useless to any other.
        client_id = access.principal.client_id if access.principal is not None else None
        cursors = Cursors(lambda: hub_key(engine, CURSOR_KEY), client_id=client_id)
        return cls(
            connection=connection,
            cache=RecordCache(sources),
            access=access,
            cursors=cursors,
            analysis=analysis,
            misses=misses,
        )

    def records(self, spec: FileSpec, by: str, key: str | None) -> list[Record]:
        """Records for a resolver; a failed department becomes an error on that field only."""
        try:
            return self.cache.get(spec, by, key)
        except SourceUnavailable as error:
            # its text names the department only; the endpoint adds the request id and logs the detail
            raise GraphQLError(
                str(error),
                extensions={"code": "SOURCE_UNAVAILABLE", "department": error.department},
                original_error=error,
            ) from None
