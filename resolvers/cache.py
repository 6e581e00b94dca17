"""The request's record cache: batches fetched ahead by the prefetcher, read synchronously by resolvers.

Made fresh for every request, so nothing read for one caller is ever served to another.
A key that was not fetched ahead is read on the spot (correct, only slower).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping

from adapters.base import FileSpec
from adapters.sources import RecordSource, SourceUnavailable
from adapters.store import LoadRequest, Record
from auth.tracing import span


class RecordCache:
    def __init__(self, sources: Mapping[str, RecordSource]) -> None:
        self._sources = sources
        self._found: dict[tuple[str, str], dict[str, list[Record]]] = {}
        self._failed: dict[str, SourceUnavailable] = {}

    async def prefetch(self, wanted: Iterable[LoadRequest]) -> None:
        """Fetch every request not yet known, each source's share in one batch, sources concurrently.

        A request `through` another table is only sent where that table lives in the same source;
        elsewhere it is left for the next level, when its keys are known.
        """
        by_source: dict[int, list[LoadRequest]] = {}
        sources: dict[int, RecordSource] = {}
        for request in wanted:
            source = self._sources[request.spec.department]
            if request.spec.department in self._failed:
                continue
            if request.through is not None:
                if not source.supports_through or self._sources[request.through[0].department] is not source:
                    continue
                missing = sorted({key for key in request.keys if key is not None})
            else:
                missing = self._missing(request.spec, request.by, request.keys)
            if missing:
                sources[id(source)] = source
                by_source.setdefault(id(source), []).append(request._replace(keys=missing))
        if not by_source:
            return
        with span("fetch", requests=sum(map(len, by_source.values()))):
            results = await asyncio.gather(
                *(sources[key].fetch(requests) for key, requests in by_source.items()), return_exceptions=True
            )
        for requests, result in zip(by_source.values(), results, strict=True):
            self._keep(requests, result)

    def get(self, spec: FileSpec, by: str, key: str | None) -> list[Record]:
        """The records of `spec` whose `by` column is `key`; raises SourceUnavailable for a failed department."""
        if key is None:
            return []
        failure = self._failed.get(spec.department)
        if failure is not None:
            raise failure
        found = self._found.get((spec.table_name, by))
        if found is None or key not in found:
            request = LoadRequest(spec, by, [key])
            try:
                result: list[dict[str, list[Record]]] | BaseException = self._sources[spec.department].fetch_now(
                    [request]
                )
            except SourceUnavailable as error:
                result = error
            self._keep([request], result)
            return self.get(spec, by, key)
        return found[key]

    def _missing(self, spec: FileSpec, by: str, keys: Iterable[str]) -> list[str]:
        found = self._found.get((spec.table_name, by), {})
        return sorted({key for key in keys if key is not None and key not in found})

    def _keep(self, requests: list[LoadRequest], result: list[dict[str, list[Record]]] | BaseException) -> None:
        if isinstance(result, SourceUnavailable):
            for request in requests:
                self._failed[request.spec.department] = result
            return
        if isinstance(result, BaseException):
            raise result
        pairs = list(zip(requests, result, strict=True))
        # Plain requests first: a request through another table learns its keys from that table's rows.
        for request, found in sorted(pairs, key=lambda pair: pair[0].through is not None):
            known = self._found.setdefault((request.spec.table_name, request.by), {})
            for key in self._covered(request):
                known[key] = found.get(key, [])

    def _covered(self, request: LoadRequest) -> Iterable[str]:
        if request.through is None:
            return request.keys
        table, column = request.through
        rows = self._found.get((table.table_name, column), {})
        return {row[request.by] for key in request.keys for row in rows.get(key, ())}
