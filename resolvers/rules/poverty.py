"""The poverty office's two registers (docs/domain.md): a household "monitored on D" and "registered poor on D".

Monitored on D: the household's monitoring record in force on D is its latest one entered on or
before D, and that record's risk was not eliminated by D (eliminated, with no date or a date on or
before D). Registered poor on D: a poverty-registration (pkh) record of the household with its
registration year empty or not after D's year, lifted out of poverty or not: a household that was
registered stays in the register (and in the comparison's reach) after it was lifted out.
Student aid (its MONITORED and REGISTERED_POOR reasons) and the comparison rules read these.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa


def monitored_on_sql(
    monitored: sa.FromClause, *, household_number: sa.ColumnElement[Any], day: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The rows of `monitored` (the jcdx table, or its snapshot on a day) that make `household_number`
    monitored on `day`: at most one per household, its latest record by then."""
    newer = monitored.alias("newer_monitoring")
    latest = ~sa.exists().where(
        newer.c.household_number == monitored.c.household_number,
        newer.c.entered_on > monitored.c.entered_on,
        newer.c.entered_on <= day,
    )
    eliminated = sa.and_(
        monitored.c.risk_eliminated.is_(True),
        sa.or_(monitored.c.eliminated_on.is_(None), monitored.c.eliminated_on <= day),
    )
    return sa.and_(
        monitored.c.household_number == household_number,
        monitored.c.entered_on <= day,
        latest,
        ~eliminated,
    )


def registered_poor_on_sql(
    registered: sa.FromClause, *, household_number: sa.ColumnElement[Any], year: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The rows of `registered` (the pkh table, or its snapshot) that make `household_number` registered poor
    in `year`: lifted out or not; only a registration from a later year was not yet in force."""
    return sa.and_(
        registered.c.household_number == household_number,
        sa.or_(registered.c.registered_year.is_(None), registered.c.registered_year <= year),
    )


def registered_in(registered_year: int | None, *, year: int) -> bool:
    """The Python form of the registration-year test of `registered_poor_on_sql`."""
    return registered_year is None or registered_year <= year
