"""`totalCount` of eligible students: exact, and recounted only when the store's department data changed.

A count reads the whole region (about 1.2 s for a city of a million persons), and a list's first page
asks for it every time. The answer depends on nothing but the term, the regions counted, the stage and
the department records, which change only by an import: every committed import adds its `ingest_run`
rows in the same transaction as the records, and never removes one. The store's runs (how many, the
newest id and start) are therefore a data version: a count kept with the version it was made at is
the count a recount would give for as long as the store reports that version.

Each request reads the version from the store (one small statement) before it uses a kept count, so
two workers never disagree after an import: both see the new version and count again. A miss counts
and reads the version in one statement, so the count is filed under the version of the data it read.

Counts are kept per engine (per store) in the worker's memory, keyed by the exact region prefixes
counted: the caller's visible part of the asked region, computed before the count as for a recount.
A caller with other regions asks another key, so no caller is told a count over regions it may not
see; and the count is still computed only over what the caller's regions cover.
"""

from __future__ import annotations

import threading
import weakref
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from adapters import store
from resolvers.students import eligibility as students

KEPT = 512
"""Counts kept per store, the least recently used dropped first: (term, regions, stage) asked lately."""

_Key = tuple[str, tuple[str, ...], str | None]
_Version = tuple[Any, ...]


DATA_VERSION = sa.select(
    sa.func.count(store.ingest_run.c.id).label("runs"),
    sa.func.max(store.ingest_run.c.id).label("newest"),
    sa.func.max(store.ingest_run.c.started_at).label("started"),
)
"""The store's department data version: its committed imports (how many, the newest id and start)."""


class _Kept:
    """One store's counts: key -> (data version, count), in use order."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: OrderedDict[_Key, tuple[_Version, int]] = OrderedDict()

    def get(self, key: _Key, version: _Version) -> int | None:
        with self._lock:
            found = self._counts.get(key)
            if found is None or found[0] != version:
                return None
            self._counts.move_to_end(key)
            return found[1]

    def put(self, key: _Key, version: _Version, count: int) -> None:
        with self._lock:
            self._counts[key] = (version, count)
            self._counts.move_to_end(key)
            while len(self._counts) > KEPT:
                self._counts.popitem(last=False)


_stores: weakref.WeakKeyDictionary[sa.Engine, _Kept] = weakref.WeakKeyDictionary()
_stores_lock = threading.Lock()


def _kept(engine: sa.Engine) -> _Kept:
    with _stores_lock:
        found = _stores.get(engine)
        if found is None:
            found = _stores[engine] = _Kept()
        return found


def eligible_count(connection: sa.Connection, *, term: str, regions: Sequence[str], stage: str | None = None) -> int:
    """`count_eligible` for these exact regions, kept until the store's data version changes."""
    key: _Key = (term, tuple(sorted(set(regions))), stage)
    kept = _kept(connection.engine)
    version = tuple(connection.execute(DATA_VERSION).one())
    found = kept.get(key, version)
    if found is not None:
        return found
    # The count and the version it is filed under, read by one statement: one snapshot of the store.
    counted = students.count_statement(term=term, regions=regions, stage=stage).subquery("counted")
    runs = DATA_VERSION.subquery("runs")
    row = connection.execute(
        sa.select(runs.c.runs, runs.c.newest, runs.c.started, counted.c.eligible).select_from(
            runs.join(counted, sa.true())
        )
    ).one()
    count = int(row.eligible)
    kept.put(key, (row.runs, row.newest, row.started), count)
    return count
