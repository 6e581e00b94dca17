"""The ledger (工作台账) of a run as caseworkers keep it: its items read back, and written as xlsx or CSV.

A run's items are every item it found (comparison_run_item), in their state now. The export has one
sheet per rule (xlsx) or one file with a rule column (CSV, UTF-8 with BOM, which spreadsheets need to
read Chinese): the item's key and state (status, reason, note, …), then the evidence, one column per
table and store column (`dibao.start_date`), several records of one table joined by `;`.

Every cell goes through auth.csv_cells, in both formats: a spreadsheet runs a formula from an xlsx
cell as readily as from a CSV one. The export is a way out of the hub for an operator on the store
itself (docs/comparison.md): a diagnosis code in the evidence is written as its chapter even so, every
code alike, so that an HIV code is not marked out.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any, BinaryIO

import sqlalchemy as sa
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from adapters.progress import Progress
from auth.csv_cells import csv_cell
from auth.masks import mask_diagnosis
from casework.comparison.rules import BY_CODE, RULES
from casework.tables import comparison_item, comparison_run, comparison_run_item

ITEM_COLUMNS = (
    "id",
    "rule",
    "programme",
    "subject",
    "household_number",
    "id_number",
    "region_code",
    "status",
    "reason_code",
    "note",
    "assignee",
    "covered_by",
    "covered_on",
    "first_run",
    "last_run",
)
_DIAGNOSIS = ("jsxx", "diagnosis_code")
"""Written as its chapter letter (`B**`, `J**`) whatever the code: a marker on HIV codes alone, beside
other codes in full, would point at them."""


def runs(connection: sa.Connection) -> list[dict[str, Any]]:
    """Every run, newest first."""
    query = sa.select(comparison_run).order_by(comparison_run.c.id.desc())
    return [dict(row._mapping) for row in connection.execute(query)]


def get_run(connection: sa.Connection, run_id: int) -> dict[str, Any] | None:
    row = connection.execute(sa.select(comparison_run).where(comparison_run.c.id == run_id)).mappings().first()
    return None if row is None else dict(row)


def run_items(
    connection: sa.Connection,
    run_id: int,
    *,
    rule: str | None = None,
    status: str | None = None,
    region: str | None = None,
    after: int | None = None,
    limit: int | None = None,
) -> list[dict[str, Any]]:
    """The items run `run_id` found, in their state now, by rule then id (a page: `after` an id, `limit`)."""
    query = (
        sa.select(comparison_item)
        .join(comparison_run_item, comparison_run_item.c.item_id == comparison_item.c.id)
        .where(comparison_run_item.c.run_id == run_id)
    )
    if rule is not None:
        query = query.where(comparison_item.c.rule == rule)
    if status is not None:
        query = query.where(comparison_item.c.status == status)
    if region is not None:
        query = query.where(comparison_item.c.region_code.like(f"{region}%"))
    if after is not None:
        query = query.where(comparison_item.c.id > after)
    query = query.order_by(comparison_item.c.rule, comparison_item.c.id)
    if limit is not None:
        query = query.limit(limit)
    return [dict(row._mapping) for row in connection.execute(query)]


def evidence_columns(items: Iterable[Mapping[str, Any]]) -> list[tuple[str, str]]:
    """(table, column) of every evidence value the items hold, in order of first appearance; each table's
    record keys first."""
    found: dict[tuple[str, str], None] = {}
    for item in items:
        for record in item["evidence"]:
            found.setdefault((record["table"], "recordKey"), None)
            for name in record["values"]:
                found.setdefault((record["table"], name), None)
    return list(found)


def header(columns: Sequence[tuple[str, str]]) -> list[str]:
    return [*ITEM_COLUMNS, *(f"{table}.{name}" for table, name in columns)]


def cells(item: Mapping[str, Any], columns: Sequence[tuple[str, str]]) -> list[str]:
    """One item as cells: its own columns, then its evidence's (formula-safe, diagnoses as their chapter)."""
    by_column: dict[tuple[str, str], list[Any]] = {}
    for record in item["evidence"]:
        table = record["table"]
        by_column.setdefault((table, "recordKey"), []).append(record["recordKey"])
        for name, value in record["values"].items():
            if (table, name) == _DIAGNOSIS and value is not None:
                value = mask_diagnosis(value)
            by_column.setdefault((table, name), []).append(value)
    own = [item[name] for name in ITEM_COLUMNS]
    evidence = [_one(by_column.get(column, [])) for column in columns]
    return [csv_cell(value) for value in (*own, *evidence)]


def _one(values: list[Any]) -> Any:
    if not values:
        return None
    return values[0] if len(values) == 1 else values


def export(
    connection: sa.Connection, run_id: int, *, format_name: str, out: BinaryIO, progress: Progress | None = None
) -> int:
    """Write run `run_id`'s ledger to `out` as `xlsx` or `csv`; returns the number of items written."""
    return write(run_items(connection, run_id), format_name=format_name, out=out, progress=progress)


def write(found: list[dict[str, Any]], *, format_name: str, out: BinaryIO, progress: Progress | None = None) -> int:
    """Items (ITEM_COLUMNS and their evidence) as a ledger file: the store's for an operator, or what the
    console's graph showed a caseworker (values withheld from them are empty cells)."""
    if format_name == "xlsx":
        written = _xlsx(found, out, progress)
    elif format_name == "csv":
        written = _csv(found, out, progress)
    else:
        raise ValueError(f"format {format_name!r} is not one of xlsx, csv")
    if progress is not None:
        progress.finish()
    return written


def _by_rule(found: list[dict[str, Any]]) -> Iterator[tuple[str, list[dict[str, Any]]]]:
    for rule in RULES:
        yield rule.code, [item for item in found if item["rule"] == rule.code]


def _xlsx(found: list[dict[str, Any]], out: BinaryIO, progress: Progress | None) -> int:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    for code, rule_items in _by_rule(found):
        rule = BY_CODE[code]
        sheet = book.create_sheet(title=f"{code} {rule.zh}"[:31])
        columns = evidence_columns(rule_items)
        sheet.append(header(columns))
        for item in rule_items:
            # Characters a worksheet cannot hold (control characters in a note) would fail the whole file.
            sheet.append([_sheet_text(cell) for cell in cells(item, columns)])
            if progress is not None:
                progress.advance(1)
    buffer = io.BytesIO()
    book.save(buffer)
    out.write(buffer.getvalue())
    return len(found)


def _csv(found: list[dict[str, Any]], out: BinaryIO, progress: Progress | None) -> int:
    columns = evidence_columns(found)
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="", write_through=True)
    try:
        writer = csv.writer(text)
        writer.writerow(["rule_name", *header(columns)])
        for code, rule_items in _by_rule(found):
            for item in rule_items:
                writer.writerow([csv_cell(BY_CODE[code].zh), *cells(item, columns)])
                if progress is not None:
                    progress.advance(1)
        text.flush()
    finally:
        text.detach()
    return len(found)


def save(path: Path, data: bytes) -> None:
    path.write_bytes(data)


def _sheet_text(cell: Any) -> Any:
    return ILLEGAL_CHARACTERS_RE.sub("", cell) if isinstance(cell, str) else cell
