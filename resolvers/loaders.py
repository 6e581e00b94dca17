"""Per-request DataLoaders: every record list of a request is fetched in one batch per (table, key)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from strawberry.dataloader import DataLoader

from adapters.base import FileSpec
from adapters.sources import RecordSource
from adapters.store import Record


class Loaders:
    """Made fresh for every request, so nothing cached leaks from one caller to the next."""

    def __init__(self, sources: Mapping[str, RecordSource]) -> None:
        self._sources = sources
        self._loaders: dict[tuple[str, str], DataLoader[str, list[Record]]] = {}

    def records(self, spec: FileSpec, by: str) -> DataLoader[str, list[Record]]:
        loader = self._loaders.get((spec.table_name, by))
        if loader is None:
            loader = self._loaders[(spec.table_name, by)] = self._make(spec, by)
        return loader

    def _make(self, spec: FileSpec, by: str) -> DataLoader[str, list[Record]]:
        source = self._sources[spec.department]

        async def load(keys: Sequence[str]) -> list[list[Record]]:
            found = await source.load(spec, by=by, keys=keys)
            return [found.get(key, []) for key in keys]

        return DataLoader(load_fn=load)
