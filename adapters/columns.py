"""Column shorthands shared by the department modules (one place for the hub's column types)."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

import sqlalchemy as sa

from adapters import fields
from adapters.base import Column

_ID = sa.String(18)
_CODE = sa.String(40)
_MONEY = sa.Numeric(14, 2)


def id_number(native: str, name: str = "id_number", *, required: bool = True) -> Column:
    return Column(native, name, fields.id_number, _ID, required)


def household_number(native: str = "hh", *, required: bool = True) -> Column:
    return Column(native, "household_number", fields.household_number, sa.String(32), required)


def code(native: str, name: str, table: Mapping[str, Enum], *, required: bool = True) -> Column:
    return Column(native, name, fields.code(table), _CODE, required)


def date(native: str, name: str, *, required: bool = False, compact: bool = False) -> Column:
    return Column(native, name, fields.compact_date if compact else fields.iso_date, sa.Date(), required)


def yuan(native: str, name: str, *, required: bool = False) -> Column:
    return Column(native, name, fields.yuan, _MONEY, required)


def fen(native: str, name: str, *, required: bool = False) -> Column:
    return Column(native, name, fields.fen, _MONEY, required)


def integer(native: str, name: str, *, required: bool = False) -> Column:
    return Column(native, name, fields.integer, sa.Integer(), required)


def text(native: str, name: str, *, length: int = 200, required: bool = False) -> Column:
    return Column(native, name, fields.text, sa.String(length), required)


def starts_before_end(row: dict[str, object]) -> str | None:
    """Shared rule of every dated programme (qsrq .. zzrq): it cannot end before it starts."""
    start, end = row.get("start_date"), row.get("end_date")
    if start is not None and end is not None and end < start:  # type: ignore[operator]
        return f"column zzrq: end date {end} is before start date {start} (qsrq)"
    return None
