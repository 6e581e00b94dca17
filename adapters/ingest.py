"""Importing a department's CSV export into the hub's store: validate, translate, upsert, keep rejects."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters import store
from adapters.base import Department, FileSpec, RowError
from adapters.csvfiles import FileError, NativeRow, read_rows

BATCH = 1000


@dataclass(frozen=True)
class FileReport:
    file: str
    read: int
    accepted: int
    rejected: int
    changed: int
    error: str | None = None


def ingest_folder(engine: sa.Engine, department: Department, folder: Path) -> list[FileReport]:
    """Import every file of `department` found in `folder`; each file is one transaction."""
    if not folder.is_dir():
        raise FileError(f"{folder}: not a folder")
    return [ingest_file(engine, department, spec, folder / spec.file_name) for spec in department.files]


def ingest_file(engine: sa.Engine, department: Department, spec: FileSpec, path: Path) -> FileReport:
    if not path.exists():
        return FileReport(spec.file_name, 0, 0, 0, 0, error="not present in the folder")
    # Whole seconds: an export time is not known more precisely, and it prints the same everywhere.
    as_of = dt.datetime.fromtimestamp(int(path.stat().st_mtime), dt.UTC)
    try:
        rows = read_rows(path, spec, department.encoding)
        with engine.begin() as connection:
            report = _import(connection, department, spec, rows, as_of)
        if report.changed:
            _analyze(engine, spec)
        return report
    except FileError as error:
        with engine.begin() as connection:
            store.replace_rejections(
                connection,
                department=department.name,
                file=spec.file_name,
                rejections=[_rejection(department, spec, 1, str(error), "")],
            )
        return FileReport(spec.file_name, 0, 0, 0, 0, error=str(error))


def _import(
    connection: sa.Connection, department: Department, spec: FileSpec, rows: Iterator[NativeRow], as_of: dt.datetime
) -> FileReport:
    seen: dict[str, int] = {}
    batch: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    read = changed = 0
    for row in rows:
        read += 1
        reason = row.error
        if reason is None:
            assert row.cells is not None
            try:
                record = spec.parse(row.cells)
            except RowError as error:
                reason = str(error)
            else:
                first = seen.setdefault(record["record_key"], row.line)
                if first != row.line:
                    reason = f"duplicate of line {first} (same key {record['record_key']})"
        if reason is not None:
            rejected.append(_rejection(department, spec, row.line, reason, row.raw))
            continue
        record["as_of"] = as_of
        batch.append(record)
        if len(batch) >= BATCH:
            changed += store.upsert(connection, spec, batch)
            batch.clear()
    changed += store.upsert(connection, spec, batch)
    store.replace_rejections(connection, department=department.name, file=spec.file_name, rejections=rejected)
    return FileReport(spec.file_name, read, read - len(rejected), len(rejected), changed)


def _analyze(engine: sa.Engine, spec: FileSpec) -> None:
    """Fresh planner statistics: without them a freshly loaded table is planned as if it were empty."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text(f"ANALYZE {spec.table_name}"))


def _rejection(department: Department, spec: FileSpec, line: int, reason: str, raw: str) -> dict[str, Any]:
    return {
        "department": department.name,
        "file": spec.file_name,
        "line": line,
        "reason": reason,
        "raw": raw,
        "recorded_at": store.now(),
    }
