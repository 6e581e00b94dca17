"""Age on a day (docs/domain.md): under N on D when born after D's date N years earlier; as Python and as SQL.

The birth date is the registry's (`csrq`); without one, the birth date inside the resident id (digits 7-14),
compared as text as resolvers/rules/special.py does for minors. Someone born on 29 February turns N
on 28 February in a year that lacks the day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa


def latest_birth_of_age(day: dt.date, age: int) -> dt.date:
    """The last birth date of someone who is `age` or older on `day`."""
    try:
        return day.replace(year=day.year - age)
    except ValueError:  # 29 February, and the year `age` earlier had none
        return dt.date(day.year - age, 2, 28)


def under_age(birth_date: dt.date | None, id_number: str, *, day: dt.date, age: int) -> bool:
    """The Python form: under `age` on `day`, by the birth date, else by the id's."""
    cutoff = latest_birth_of_age(day, age)
    if birth_date is not None:
        return birth_date > cutoff
    return id_number[6:14] > cutoff.strftime("%Y%m%d")


def under_age_sql(
    birth_date: sa.ColumnElement[Any], id_number: sa.ColumnElement[Any], *, day: dt.date, age: int
) -> sa.ColumnElement[bool]:
    """The SQL form of `under_age` (the cutoff rendered into the statement's text)."""
    cutoff = latest_birth_of_age(day, age)
    by_date = sa.literal(cutoff, sa.Date(), literal_execute=True)
    by_id = sa.literal(cutoff.strftime("%Y%m%d"), sa.String(), literal_execute=True)
    return sa.or_(
        sa.and_(birth_date.is_not(None), birth_date > by_date),
        sa.and_(birth_date.is_(None), sa.func.substr(id_number, 7, 8) > by_id),
    )
