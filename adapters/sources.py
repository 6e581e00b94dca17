"""Where a department's records come from at request time: the hub's store, or live from its own system."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import logging
import re
import threading
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal, Protocol

import sqlalchemy as sa

from adapters import fields, idnumber
from adapters.base import Column, Department, FileSpec, RowError
from adapters.breaker import CircuitBreaker, CircuitOpen, SourceHealth
from adapters.store import LoadRequest, Record

log = logging.getLogger(__name__)
_DIGIT_RUN = re.compile(r"[0-9]{6,}[0-9Xx]*")


class SourceUnavailable(Exception):
    """A department's source failed or timed out; only its part of an answer is lost.

    Its text names only the department, and may be shown to a client; `detail` says what went
    wrong (the driver's message, naming tables and statements), for the log alone.
    """

    def __init__(self, department: str, detail: str) -> None:
        super().__init__(f"the {department.replace('_', ' ')} department's system did not answer")
        self.department = department
        self.detail = detail


class RecordSource(Protocol):
    """Batch reads: for each request (spec, by, keys), the records grouped by key."""

    supports_through: bool

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]: ...

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]: ...


class LiveSource(RecordSource, Protocol):
    """A department read at request time from its own system (the sources file), with its health."""

    department: Department

    def health(self) -> SourceHealth: ...

    def dispose(self) -> None: ...


class GuardedSource:
    """What every live source shares: the circuit breaker around its calls, the rows it had to skip,
    and the parsing of its rows exactly like the department's CSV export."""

    supports_through = False  # the registry is not in the department's system
    kind: Literal["database", "http"]

    def __init__(self, department: Department, *, breaker: CircuitBreaker | None) -> None:
        self.department = department
        self._breaker = breaker or CircuitBreaker()
        self._skipped = 0
        self._skipped_lock = threading.Lock()

    def health(self) -> SourceHealth:
        return SourceHealth(
            department=self.department.name,
            kind=self.kind,
            state=self._breaker.state,
            consecutive_failures=self._breaker.consecutive_failures,
            last_failure_at=self._breaker.last_failure_at,
            rows_skipped=self._skipped,
        )

    @contextlib.contextmanager
    def _guarded(self) -> Iterator[None]:
        """Around one fetch: an open breaker fails it at once, before any thread, pool or network wait."""
        try:
            with self._breaker.guard():
                yield
        except CircuitOpen as refused:
            raise SourceUnavailable(self.department.name, refused.detail) from None

    def _records(
        self, spec: FileSpec, by: str, rows: Iterable[Mapping[str, object]], as_of: dt.datetime
    ) -> dict[str, list[Record]]:
        """The department's native rows parsed by its FileSpec, as its CSV rows are; bad rows left out."""
        found: dict[str, list[Record]] = defaultdict(list)
        skipped = 0
        for cells in rows:
            try:
                record: dict[str, Any] = spec.parse(_text_cells(spec, cells))
            except RowError:
                skipped += 1
                continue
            for name, places in _scales(spec):
                if record[name] is not None:
                    record[name] = record[name].quantize(places, rounding=ROUND_HALF_UP)
            record["as_of"] = as_of
            found[record[by]].append(record)
        if skipped:
            with self._skipped_lock:
                self._skipped += skipped
            # counted, not quoted: a row's fault quotes its cells (ids, names); an ingest of the
            # department's export keeps each rejected row with its reason
            name = self.department.name
            log.warning("%s.%s: %d rows skipped, not valid in the department's format", name, spec.name, skipped)
        return found


@functools.cache
def _scales(spec: FileSpec) -> tuple[tuple[str, Decimal], ...]:
    """The decimal columns and the places their store column keeps: a live record has the value an
    ingested one has (`68.0` m² is `68.00`), rounded as PostgreSQL's numeric rounds."""
    return tuple(
        (column.name, Decimal(1).scaleb(-column.type.scale))
        for column in spec.columns
        if isinstance(column.type, sa.Numeric) and column.type.scale is not None
    )


def _text_cells(spec: FileSpec, cells: Mapping[str, object]) -> dict[str, str | None]:
    """The row's cells as the CSV parsers take them; a column missing or not text is the row's fault."""
    text: dict[str, str | None] = {}
    for column in spec.columns:
        if column.native not in cells:
            raise RowError(f"column {column.native}: missing from the row")
        value = cells[column.native]
        if value is not None and not isinstance(value, str):
            raise RowError(f"column {column.native}: a {type(value).__name__}, not text")
        text[column.native] = value
    return text


class DatabaseSource(GuardedSource):
    """A department's own database, read at request time and parsed exactly like its CSV export.

    Tables and columns carry the native names of spec/departments.md. Ids are looked up in
    every spelling the department may have stored (lower-case x, legacy 15 digits).
    """

    kind = "database"

    def __init__(
        self, department: Department, engine: sa.Engine, *, timeout: float = 5.0, breaker: CircuitBreaker | None = None
    ) -> None:
        super().__init__(department, breaker=breaker)
        self._engine = engine
        self._timeout = timeout

    async def fetch(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        with self._guarded():
            try:
                return await asyncio.wait_for(asyncio.to_thread(self._read, requests), self._timeout)
            except TimeoutError:
                raise SourceUnavailable(self.department.name, f"no answer within {self._timeout:g} s") from None

    def fetch_now(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        with self._guarded():
            return self._read(requests)

    def dispose(self) -> None:
        self._engine.dispose()

    def _read(self, requests: Sequence[LoadRequest]) -> list[dict[str, list[Record]]]:
        try:
            return [self._load(request.spec, request.by, request.keys) for request in requests]
        except sa.exc.SQLAlchemyError as error:
            raise SourceUnavailable(self.department.name, _detail(error)) from None

    def _load(self, spec: FileSpec, by: str, keys: Sequence[str]) -> dict[str, list[Record]]:
        column = next(column for column in spec.columns if column.name == by)
        lookup = [variant for key in keys for variant in idnumber.variants(key)] if _is_id(column) else list(keys)
        native = sa.table(spec.name, *(sa.column(c.native) for c in spec.columns))
        query = sa.select(*native.c).where(native.c[column.native].in_(lookup))
        as_of = dt.datetime.now(dt.UTC).replace(microsecond=0)
        with self._engine.connect() as connection:
            rows = connection.execute(query).all()
        cells = ({c.native: _cell_text(row._mapping[c.native], c) for c in spec.columns} for row in rows)
        return self._records(spec, by, cells, as_of)


def _detail(error: sa.exc.SQLAlchemyError) -> str:
    """What the driver said, for the log: its error's type and first line, without the statement or
    its parameters (SQLAlchemy appends both), and with digit runs cut, since the only values a
    statement here carries are the keys it looks up (ids, household numbers), which a database may
    quote back (`invalid input syntax for type bigint: "..."`)."""
    cause = error.orig if isinstance(error, sa.exc.DBAPIError) and error.orig is not None else error
    lines = str(cause).splitlines()
    state = getattr(cause, "sqlstate", None)
    kind = f"{type(cause).__name__} ({state})" if state else type(cause).__name__
    return f"{kind}: {_DIGIT_RUN.sub('…', lines[0] if lines else '')}"


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
