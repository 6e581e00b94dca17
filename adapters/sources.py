"""Where a department's records come from at request time: the hub's store or its own database."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Sequence
from decimal import Decimal
from typing import Any, Protocol

import sqlalchemy as sa

from adapters import fields, idnumber
from adapters.base import Column, Department, FileSpec, RowError
from adapters.store import LoadRequest, Record

log = logging.getLogger(__name__)


class SourceUnavailable(Exception):
    """A department's source failed or timed out; only its part of an answer is lost."""

    def __init__(self, department: str, reason: str) -> None:
        super().__init__(f"department {department} is unavailable: {reason}")
        self.department = department


class RecordSource(Protocol):
    """Batch reads: for each request (spec, by, keys), the records grouped by key."""

    supports_through: bool

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]: ...

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]: ...


class LiveSource:
    """A department's own database, read at request time and parsed exactly like its CSV export.

    Tables and columns carry the native names of spec/departments.md. Ids are looked up in
    every spelling the department may have stored (lower-case x, legacy 15 digits).
    """

    supports_through = False  # the registry is not in the department's database

    def __init__(self, department: Department, engine: sa.Engine, *, timeout: float = 5.0) -> None:
        self.department = department
        self._engine = engine
        self._timeout = timeout

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        try:
            return await asyncio.wait_for(asyncio.to_thread(self.fetch_now, requests), self._timeout)
        except TimeoutError:
            raise SourceUnavailable(self.department.name, f"no answer within {self._timeout:g} s") from None

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        try:
            return [self._load(request.spec, request.by, request.keys) for request in requests]
        except sa.exc.SQLAlchemyError as error:
            reason = str(error.orig if isinstance(error, sa.exc.DBAPIError) else error).splitlines()[0]
            raise SourceUnavailable(self.department.name, reason) from None

    def dispose(self) -> None:
        self._engine.dispose()

    def _load(self, spec: FileSpec, by: str, keys: Sequence[str]) -> dict[str, list[Record]]:
        column = next(column for column in spec.columns if column.name == by)
        lookup = [variant for key in keys for variant in idnumber.variants(key)] if _is_id(column) else list(keys)
        native = sa.table(spec.name, *(sa.column(c.native) for c in spec.columns))
        query = sa.select(*native.c).where(native.c[column.native].in_(lookup))
        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
        found: dict[str, list[Record]] = defaultdict(list)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        for row in rows:
            cells = {c.native: _cell_text(row._mapping[c.native], c) for c in spec.columns}
            try:
                record: dict[str, Any] = spec.parse(cells)
            except RowError as error:
                log.warning("%s.%s: row skipped: %s", self.department.name, spec.name, error)
                continue
            record["as_of"] = as_of
            found[record[by]].append(record)
        return found


def _is_id(column: Column) -> bool:
    return column.parse is fields.id_number


def _cell_text(value: object, column: Column) -> str | None:
    """Cells of a database come typed; the native parsers take text as in the CSV export."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, dt.date):
        return value.strftime("%Y%m%d") if column.parse is fields.compact_date else value.isoformat()
    if isinstance(value, Decimal | int | float):
        return str(value)
    return str(value)
