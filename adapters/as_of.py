"""A department table as it stood on a day: the versions of each record current on day D.

A version is current on D when it appeared before D ended (`valid_from` < D+1 00:00 UTC) and was still
current then: it is the current row, or its history row was closed later (`valid_to` >= D+1 00:00 UTC).
Every rule of a comparison run reads department tables through `current_on`, so a run as of a past
day sees the snapshot of that day (records closed by a newer export included), and a run as of today
reads the current table alone, with no union to pay for.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from adapters.base import FileSpec


def day_end(day: dt.date) -> dt.datetime:
    """The first moment after `day` (UTC): what "before D ended" compares with."""
    return dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), dt.UTC)


def current_on(spec: FileSpec, day: dt.date, *, today: dt.date | None = None) -> sa.FromClause:
    """The versions of `spec`'s records current on `day`, with the current table's columns.

    `today` (default: today in UTC) decides when the current table alone is the answer: for `day` on
    or after it, a record's current version is the one current on `day`.
    """
    if day >= (today or dt.datetime.now(dt.UTC).date()):
        return spec.table
    end = sa.literal(day_end(day), sa.DateTime(timezone=True), literal_execute=True)
    names = [column.name for column in spec.table.columns]
    current = sa.select(*(spec.table.c[name] for name in names)).where(spec.table.c.valid_from < end)
    closed = sa.select(*(spec.history.c[name] for name in names)).where(
        spec.history.c.valid_from < end, spec.history.c.valid_to >= end
    )
    return sa.union_all(current, closed).subquery(f"{spec.table_name}_on")
