"""Importing department CSV exports into the hub's store as dated snapshots, all or nothing, each a recorded run.

An import first checks every file it is given (present, header, encoding) and writes nothing when one
fails; then it applies every department in one transaction (adapters.snapshots), which it rolls back
when a file had every row rejected. A committed import leaves one `ingest_run` per department.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from adapters import store
from adapters.base import Department, FileSpec, RowError
from adapters.csvfiles import FileError, SpecRow, check_file, find_file, read_cells
from adapters.progress import Progress
from adapters.snapshots import Staging

BATCH = 5000
MISSING = "not present in the folder"


@dataclass(frozen=True)
class FileReport:
    file: str
    read: int
    accepted: int
    rejected: int
    changed: int
    closed: int = 0
    error: str | None = None
    warnings: tuple[str, ...] = ()
    sha256: str = ""


@dataclass(frozen=True)
class DepartmentReport:
    department: str
    folder: Path
    files: list[FileReport] = field(default_factory=list)
    error: str | None = None  # the folder itself: missing
    run_id: int | None = None
    as_of: dt.datetime | None = None


@dataclass(frozen=True)
class Outcome:
    departments: list[DepartmentReport]
    committed: bool
    status: int
    """0 committed; 1 a file is missing, unreadable, or had every row rejected; 2 a department folder is missing."""


class _Refused(Exception):
    """A fault found while importing: every department's changes are rolled back."""

    def __init__(self, report: DepartmentReport) -> None:
        super().__init__(report.department)
        self.report = report


def ingest_folder(
    engine: sa.Engine,
    department: Department,
    folder: Path,
    *,
    as_of: dt.datetime | None = None,
    incremental: bool = False,
    allow_missing: bool = True,
) -> list[FileReport]:
    """Import every file of `department` found in `folder` (a missing file is reported, and closes nothing)."""
    if not folder.is_dir():
        raise FileError(f"{folder}: not a folder")
    outcome = ingest(engine, [(department, folder)], as_of=as_of, incremental=incremental, allow_missing=allow_missing)
    return outcome.departments[0].files


def ingest(
    engine: sa.Engine,
    exports: Sequence[tuple[Department, Path]],
    *,
    as_of: dt.datetime | None = None,
    incremental: bool = False,
    allow_missing: bool = False,
    progress: Progress | None = None,
) -> Outcome:
    """Import every department's export, or none of them; `progress` counts the rows as they are read."""
    reports = [_locate(department, folder) for department, folder in exports]
    missing = [report for report in reports if report.error]
    if missing and not allow_missing:
        return Outcome(reports, committed=False, status=2)
    planned = [
        (department, folder, _check(department, folder, allow_missing))
        for (department, folder), report in zip(exports, reports, strict=True)
        if report.error is None
    ]
    with engine.connect() as connection:
        latest = _latest_as_of(connection)
    checked = []
    failed = False
    for department, folder, files in planned:
        when = as_of or _newest(files)
        report = DepartmentReport(department.name, folder, [file for file, _ in files], as_of=when)
        before = latest.get(department.name)
        # Older than what the store holds: a full snapshot would close records on stale news, and an
        # incremental one would undo newer changes.
        if when is not None and before is not None and when < before:
            report = replace(report, error=f"export as of {when:%Y-%m-%d %H:%M:%S} is older than the store's {before}")
        failed = failed or report.error is not None or any(_fatal(file, allow_missing) for file, _ in files)
        checked.append((department, report, files))
    skipped = [report for report in reports if report.error]
    if failed:
        return Outcome([report for _, report, _ in checked] + skipped, committed=False, status=1)
    if progress is not None:
        progress.total = sum(_lines(path) for _, _, files in checked for _, path in files if path is not None)
    done: list[DepartmentReport] = []
    try:
        with engine.begin() as connection:
            for department, report, files in checked:
                done.append(_import(connection, department, report, files, incremental=incremental, progress=progress))
    except _Refused as refused:
        rest = [report for _, report, _ in checked[len(done) + 1 :]]
        return Outcome([*done, refused.report, *rest, *skipped], committed=False, status=1)
    finally:
        if progress is not None:
            progress.finish()
    for department, _, _ in checked:
        _analyze(engine, department)
    return Outcome(done + skipped, committed=True, status=0)


def _locate(department: Department, folder: Path) -> DepartmentReport:
    if not folder.is_dir():
        return DepartmentReport(department.name, folder, error=f"department folder {folder}/ not found")
    return DepartmentReport(department.name, folder)


def _check(department: Department, folder: Path, allow_missing: bool) -> list[tuple[FileReport, Path | None]]:
    """Each file of the department with what a look at it found, before anything is imported."""
    found: list[tuple[FileReport, Path | None]] = []
    for spec in department.files:
        try:
            path, moved = find_file(folder, spec.file_name)
            if path is None:
                found.append((FileReport(spec.file_name, 0, 0, 0, 0, error=MISSING), None))
                continue
            warnings = [moved] if moved else []
            warnings += check_file(path, spec, department.encoding)
        except FileError as error:
            found.append((FileReport(spec.file_name, 0, 0, 0, 0, error=str(error)), None))
            continue
        found.append((FileReport(spec.file_name, 0, 0, 0, 0, warnings=tuple(warnings)), path))
    return found


def _fatal(report: FileReport, allow_missing: bool) -> bool:
    return report.error is not None and not (allow_missing and report.error == MISSING)


def _newest(files: Sequence[tuple[FileReport, Path | None]]) -> dt.datetime | None:
    # Whole seconds: an export time is not known more precisely, and it prints the same everywhere.
    times = [int(path.stat().st_mtime) for _, path in files if path is not None]
    return dt.datetime.fromtimestamp(max(times), dt.UTC) if times else None


def _latest_as_of(connection: sa.Connection) -> dict[str, dt.datetime]:
    run = store.ingest_run
    rows = connection.execute(sa.select(run.c.department, sa.func.max(run.c.as_of)).group_by(run.c.department))
    return {department: _utc(latest) for department, latest in rows}


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _import(
    connection: sa.Connection,
    department: Department,
    report: DepartmentReport,
    files: list[tuple[FileReport, Path | None]],
    *,
    incremental: bool,
    progress: Progress | None,
) -> DepartmentReport:
    as_of = report.as_of or dt.datetime.now(dt.UTC).replace(microsecond=0)
    run_id = connection.execute(
        store.ingest_run.insert()
        .values(department=department.name, incremental=incremental, as_of=as_of, started_at=store.now())
        .returning(store.ingest_run.c.id)
    ).scalar_one()
    imported: list[FileReport] = []
    for checked, path in files:
        if path is None:
            imported.append(checked)
            continue
        spec = department.file(checked.file.removesuffix(".csv"))
        result = _import_file(
            connection, department, spec, path, as_of=as_of, run_id=run_id, incremental=incremental, progress=progress
        )
        result = replace(result, warnings=checked.warnings)
        imported.append(result)
        if result.read and not result.accepted:
            raise _Refused(replace(report, files=imported + [file for file, _ in files[len(imported) :]]))
        connection.execute(
            store.ingest_run_file.insert().values(
                run_id=run_id,
                file=result.file,
                sha256=result.sha256,
                rows_read=result.read,
                rows_accepted=result.accepted,
                rows_rejected=result.rejected,
                rows_changed=result.changed,
                rows_closed=result.closed,
            )
        )
    connection.execute(store.ingest_run.update().where(store.ingest_run.c.id == run_id).values(finished_at=store.now()))
    return replace(report, files=imported, run_id=run_id, as_of=as_of)


def _import_file(
    connection: sa.Connection,
    department: Department,
    spec: FileSpec,
    path: Path,
    *,
    as_of: dt.datetime,
    run_id: int,
    incremental: bool,
    progress: Progress | None,
) -> FileReport:
    digest = _sha256(path)
    staging = Staging(connection, spec)
    try:
        read, rejected = _stage(department, spec, read_cells(path, spec, department.encoding), staging, progress)
    except BaseException:
        staging.discard()
        raise
    applied = staging.apply(as_of=as_of, run_id=run_id, incremental=incremental)
    store.replace_rejections(connection, department=department.name, file=spec.file_name, rejections=rejected)
    return FileReport(
        spec.file_name,
        read,
        read - len(rejected),
        len(rejected),
        applied.changed,
        applied.closed,
        sha256=digest,
    )


def _stage(
    department: Department, spec: FileSpec, rows: Iterator[SpecRow], staging: Staging, progress: Progress | None
) -> tuple[int, list[dict[str, Any]]]:
    seen: dict[str, int] = {}
    batch: list[tuple[Any, ...]] = []
    rejected: list[dict[str, Any]] = []
    parse = spec.parse_cells
    read = reported = 0
    for line, values, reason, raw in rows:
        read += 1
        if reason is None:
            assert values is not None
            try:
                record = parse(values)
            except RowError as error:
                reason = str(error)
            else:
                first = seen.setdefault(record[0], line)
                if first != line:
                    reason = f"duplicate of line {first} (same key {record[0]})"
        if reason is not None:
            rejected.append(_rejection(department, spec, line, reason, raw))
            continue
        batch.append(record)
        if len(batch) >= BATCH:
            staging.add(batch)
            batch.clear()
            if progress is not None:
                progress.advance(read - reported)
                reported = read
    staging.add(batch)
    if progress is not None:
        progress.advance(read - reported)
    return read, rejected


def _lines(path: Path) -> int:
    """The data rows of a file, about (a quoted cell may hold a line break): for the time left."""
    count = 0
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            count += chunk.count(b"\n")
    return max(count - 1, 0)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _analyze(engine: sa.Engine, department: Department) -> None:
    """Fresh planner statistics: without them a freshly loaded table is planned as if it were empty."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        for spec in department.files:
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
