"""Periods of dated records (docs/domain.md): a record "in force on D", and "the window" of the 12 months before D.

In force on D: started on or before D, and not ended before it (end empty, or on or after D). Every
award, support, allowance and subsidy of the departments is judged by this one definition, as
Python and as SQL. The window: the dates in (D - 12 months, D], for events "within the last year".
"""

from __future__ import annotations

import calendar
import datetime as dt
from typing import Any

import sqlalchemy as sa

from resolvers.rules import expressions as e

_START = e.value("record.start", "date")
_END = e.value("record.end", "date")
_DAY = e.value("day", "date")
IN_FORCE = e.all_of(_START <= _DAY, e.any_of(_END.is_null(), _END >= _DAY))

WINDOW_MONTHS = 12


def in_force(start: dt.date | None, end: dt.date | None, *, day: dt.date) -> bool:
    """The Python form: a record from `start` to `end` (empty: open-ended) is in force on `day`."""
    return e.holds(IN_FORCE, {"record.start": start, "record.end": end, "day": day})


def in_force_sql(
    start: sa.ColumnElement[Any], end: sa.ColumnElement[Any], *, day: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The SQL form of `in_force`, over a record's start and end columns."""
    return e.to_sql(IN_FORCE, {"record.start": start, "record.end": end, "day": day})


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the last day of that month when it is shorter: 31 May -> 28 February)."""
    year, month = divmod(day.year * 12 + day.month - 1 - months, 12)
    return dt.date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


def window(day: dt.date, months: int = WINDOW_MONTHS) -> tuple[dt.date, dt.date]:
    """The window ending on `day`: (after, through), i.e. the dates d with after < d <= through."""
    return months_before(day, months), day


def in_window(value: dt.date | None, *, day: dt.date, months: int = WINDOW_MONTHS) -> bool:
    after, through = window(day, months)
    return value is not None and after < value <= through


def in_window_sql(
    column: sa.ColumnElement[Any], *, day: dt.date, months: int = WINDOW_MONTHS
) -> sa.ColumnElement[bool]:
    """The SQL form of `in_window` (the bounds rendered into the statement, as the rules' days are)."""
    after, through = window(day, months)
    return sa.and_(
        column > sa.literal(after, sa.Date(), literal_execute=True),
        column <= sa.literal(through, sa.Date(), literal_execute=True),
    )
