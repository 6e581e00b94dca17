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


class RecordCache:
    def __init__(self, sources: Mapping[str, RecordSource]) -> None:
        self._sources = sources
        self._found: dict[tuple[str, str], dict[str, list[Record]]] = {}
        self._failed: dict[str, SourceUnavailable] = {}

    async def prefetch(self, wanted: Iterable[tuple[FileSpec, str, Iterable[str]]]) -> None:
        """Fetch every (spec, by, keys) not yet known, each source's share in one batch, sources concurrently."""
        by_source: dict[int, list[LoadRequest]] = {}
        sources: dict[int, RecordSource] = {}
        for spec, by, keys in wanted:
            missing = self._missing(spec, by, keys)
            if missing and spec.department not in self._failed:
                source = self._sources[spec.department]
                sources[id(source)] = source
                by_source.setdefault(id(source), []).append((spec, by, missing))
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
            request: LoadRequest = (spec, by, [key])
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
            for spec, _by, _keys in requests:
                self._failed[spec.department] = result
            return
        if isinstance(result, BaseException):
            raise result
        for (spec, by, keys), found in zip(requests, result, strict=True):
            known = self._found.setdefault((spec.table_name, by), {})
            for key in keys:
                known[key] = found.get(key, [])
