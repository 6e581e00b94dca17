"""One file's export applied to its store tables as a dated snapshot: staged rows, then set-based statements.

The rows of a file go into a temporary staging table first (PostgreSQL: COPY; SQLite: one batched
insert), then a few statements compare it with the current table, so the meaning of a snapshot is
defined once, here, for every `FileSpec` and both databases:

- a staged record whose key is not current, or whose data differ, is *changed*: the version it
  replaces moves to the history table with `valid_to` = the export's as-of;
- a current record the export lacks is *closed* (full snapshots only, not `incremental`): moved to the
  history table, no longer current, never deleted;
- every staged record becomes current with `as_of` = the export's as-of (`source { asOf }`); an
  unchanged one keeps its `valid_from` and is rewritten only when that as-of moved.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from adapters.base import FileSpec


@dataclass(frozen=True)
class Applied:
    changed: int
    closed: int


class Staging:
    """A temporary table holding one file's accepted rows until they are applied."""

    def __init__(self, connection: sa.Connection, spec: FileSpec) -> None:
        self.connection = connection
        self.spec = spec
        self.table = sa.Table(
            f"staging_{spec.table_name}",
            sa.MetaData(),
            sa.Column("record_key", sa.String(200), primary_key=True),
            *(sa.Column(column.name, column.type) for column in spec.columns),
            sa.Column("row_hash", sa.String(32), nullable=False),
            prefixes=["TEMPORARY"],
        )
        self._names = [column.name for column in self.table.columns]
        self.table.create(connection)
        self._copy: Any = None
        if connection.dialect.name == "postgresql":
            driver = connection.connection.driver_connection
            assert driver is not None
            # One COPY for the whole file: rows stream in as they are parsed, with no statement per batch.
            self._cursor = driver.cursor()
            columns = ", ".join(self._names)
            self._copying = self._cursor.copy(f"COPY {self.table.name} ({columns}) FROM STDIN")
            self._copy = self._copying.__enter__()

    def add(self, records: Sequence[tuple[Any, ...]]) -> None:
        """Stage parsed rows, each as `FileSpec.parse_cells` returns it (in the order of `staged_names`)."""
        if not records:
            return
        if self._copy is not None:
            # The COPY text built here rather than by `write_row`, which adapts every value one by one.
            self._copy.write("".join([_copy_line(record) for record in records]))
        else:
            names = self._names
            self.connection.execute(self.table.insert(), [dict(zip(names, record, strict=True)) for record in records])

    def apply(self, *, as_of: dt.datetime, run_id: int, incremental: bool) -> Applied:
        if self._copy is not None:
            self._copying.__exit__(None, None, None)
            self._copy = None
            self._cursor.close()
            self.connection.execute(sa.text(f"ANALYZE {self.table.name}"))
        try:
            return _apply(self.connection, self.spec, self.table, as_of=as_of, run_id=run_id, incremental=incremental)
        finally:
            self.table.drop(self.connection)

    def discard(self) -> None:
        if self._copy is not None:
            self._copying.__exit__(None, None, None)
            self._cursor.close()


# COPY's text format: a tab between columns, \N for NULL, and these four escaped inside a value.
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_line(record: tuple[Any, ...]) -> str:
    # str() is what PostgreSQL reads of every type parsed (int, Decimal, date; bool as True/False).
    line = "\t".join(["\\N" if value is None else str(value) for value in record])
    # Nearly no value holds a character to escape: one look at the whole line instead of one per value.
    if (
        line.count("\\") == record.count(None)
        and line.count("\t") == len(record) - 1
        and "\n" not in line
        and "\r" not in line
    ):
        return line + "\n"
    return "\t".join(["\\N" if value is None else str(value).translate(_ESCAPES) for value in record]) + "\n"


def _apply(
    connection: sa.Connection, spec: FileSpec, staged: sa.Table, *, as_of: dt.datetime, run_id: int, incremental: bool
) -> Applied:
    current = spec.table
    same_key = staged.c.record_key == current.c.record_key
    unchanged = sa.exists().where(same_key, current.c.row_hash == staged.c.row_hash)
    changed = connection.execute(sa.select(sa.func.count()).select_from(staged).where(~unchanged)).scalar_one()

    superseded = sa.exists().where(same_key, current.c.row_hash != staged.c.row_hash)
    _to_history(connection, spec, superseded, as_of=as_of, run_id=run_id)
    closed = 0
    if not incremental:
        absent = ~sa.exists().where(same_key)
        _to_history(connection, spec, absent, as_of=as_of, run_id=run_id)
        # Counted by the DELETE: an INSERT … SELECT reports no row count through every driver.
        closed = int(connection.execute(current.delete().where(absent)).rowcount)

    data = [column.name for column in spec.columns]
    moment = sa.literal(as_of, sa.DateTime(timezone=True))
    run = sa.literal(run_id, sa.Integer)
    # An UPDATE … FROM for the keys already current and a plain INSERT for the new ones, not one
    # INSERT … ON CONFLICT: a first import is nearly all new keys, and a plain insert skips the
    # speculative insertion an upsert pays for every row. (The right-hand sides read the old row.)
    connection.execute(
        current.update()
        .where(same_key, sa.or_(current.c.row_hash != staged.c.row_hash, current.c.as_of != moment))
        .values(
            {
                **{name: staged.c[name] for name in (*data, "row_hash")},
                "as_of": moment,
                "ingest_run": run,
                "valid_from": sa.case((current.c.row_hash == staged.c.row_hash, current.c.valid_from), else_=moment),
            }
        )
    )
    new = sa.select(staged.c.record_key, *(staged.c[name] for name in data), staged.c.row_hash, moment, moment, run)
    names = ["record_key", *data, "row_hash", "as_of", "valid_from", "ingest_run"]
    connection.execute(current.insert().from_select(names, new.where(~sa.exists().where(same_key))))
    return Applied(changed=changed, closed=closed)


def _to_history(
    connection: sa.Connection, spec: FileSpec, which: sa.ColumnElement[bool], *, as_of: dt.datetime, run_id: int
) -> None:
    """Copy the current versions `which` selects into the history, closed at `as_of` by run `run_id`."""
    current, history = spec.table, spec.history
    kept = [column.name for column in current.columns]
    rows = sa.select(
        *(current.c[name] for name in kept),
        sa.literal(as_of, sa.DateTime(timezone=True)),
        sa.literal(run_id, sa.Integer),
    ).where(which)
    connection.execute(history.insert().from_select([*kept, "valid_to", "closed_by"], rows))
