"""CSV cells that a spreadsheet shows as text and never runs as a formula (OWASP: CSV injection).

Every CSV the hub writes (the students export; the comparison ledger's next) turns its values into
cells here, so the rule has one home. A spreadsheet evaluates a cell that starts with `=`, `+`, `-`
or `@`, even after leading spaces, and treats a leading tab or carriage return as the start of
one; such a cell gets a single quote in front, which the spreadsheet shows as the text it was.

A number the hub holds as a number (int, finite float or Decimal) is written as it is, minus sign
and all: its text is made by Python's `str`, digits with at most a sign, a point and an exponent,
so it cannot hold a formula, and a caseworker can still add up the column. Text is neutralised
whatever it looks like: a department's `-5` may as well be `-5+cmd|' /C calc'!A0`, and deciding
by its look is an allow-list to probe, not a rule.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from decimal import Decimal

LIST_SEPARATOR = ";"
_FORMULA_STARTS = ("=", "+", "-", "@")
_CONTROL_STARTS = ("\t", "\r")


def neutralise(text: str) -> str:
    """The text, with a single quote in front if a spreadsheet would read it as a formula."""
    if text.startswith(_CONTROL_STARTS) or text.lstrip().startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_cell(value: object) -> str:
    """One value as a cell: empty for None, 1 or 0 for a flag, a list's parts joined by ';' (each part
    neutralised, since a spreadsheet splitting on ';' makes each one a cell), numbers as they are."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    if isinstance(value, Decimal) and value.is_finite():
        return str(value)
    if isinstance(value, list | tuple):
        return LIST_SEPARATOR.join(_part(part) for part in value)
    return neutralise(str(value))


def csv_row(values: Iterable[object]) -> list[str]:
    return [csv_cell(value) for value in values]


def _part(value: object) -> str:
    return "" if value is None else csv_cell(value)
