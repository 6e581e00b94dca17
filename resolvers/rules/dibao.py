"""Dibao coverage (docs/domain.md): whom a minimum living guarantee award covers, and whether it is in force on a
day, gradual exit included; as Python and as SQL from the definition below.

A whole-household award covers every member of the household it was filed under; a single-person
award only the person it names (whatever household it was filed under). An award is in force from
its start date until its end date, and after that through its 12-month gradual-exit window
(`jtqjz`): a household whose income rose above the standard is still covered then.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa

from adapters import vocabulary as v
from resolvers.rules import expressions as e

Award = Mapping[str, Any]  # a stored dibao record


@dataclass(frozen=True)
class Way:
    """One way an award covers a person: its kind, and the field the award and the person share."""

    coverage: str
    shared: Literal["household_number", "id_number"]

    @property
    def condition(self) -> e.Node:
        return e.all_of(
            e.value(f"award.{self.shared}", "text").equals(e.value(f"person.{self.shared}", "text")),
            e.value("award.coverage", "text").equals(self.coverage),
        )


BY_HOUSEHOLD = Way(v.DibaoCoverage.WHOLE_HOUSEHOLD.name, "household_number")
BY_NAME = Way(v.DibaoCoverage.SINGLE_PERSON.name, "id_number")
WAYS = (BY_HOUSEHOLD, BY_NAME)
"""Whole-household awards first: the order in which a person's awards are listed."""

_DAY = e.value("day", "date")
_END = e.value("award.end_date", "date")
IN_FORCE = e.all_of(
    e.value("award.start_date", "date") <= _DAY,
    e.any_of(_END.is_null(), _END >= _DAY, e.value("award.gradual_exit_until", "date") >= _DAY),
)


def _values(award: Award, *, id_number: str | None = None, household_number: str | None = None) -> dict[str, Any]:
    return {
        **{f"award.{name}": found for name, found in award.items()},
        "person.id_number": id_number,
        "person.household_number": household_number,
    }


def covers(award: Award, *, id_number: str, household_number: str | None) -> bool:
    """Whether the award covers the person (registered in `household_number`), on some day or other."""
    values = _values(award, id_number=id_number, household_number=household_number)
    return any(e.holds(way.condition, values) for way in WAYS)


def in_force(award: Award, *, day: dt.date) -> bool:
    return e.holds(IN_FORCE, {**_values(award), "day": day})


def covered_on(award: Award, *, id_number: str, household_number: str | None, day: dt.date) -> bool:
    """The Python form: the award covers the person and is in force on `day`."""
    return covers(award, id_number=id_number, household_number=household_number) and in_force(award, day=day)


def covering(awards: Iterable[Award], *, id_number: str, household_number: str | None) -> list[Award]:
    """The awards that cover the person, whole-household ones first, each once (by record key)."""
    candidates = list(awards)
    found: dict[str, Award] = {}
    for way in WAYS:
        for award in candidates:
            values = _values(award, id_number=id_number, household_number=household_number)
            if e.holds(way.condition, values):
                found.setdefault(award["record_key"], award)
    return list(found.values())


def _columns(award: sa.FromClause, **more: Any) -> dict[str, Any]:
    return {**{f"award.{column.name}": column for column in award.c}, **more}


def covered_on_sql(
    award: sa.FromClause, *, way: Way, person: sa.ColumnElement[Any], day: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The SQL form, one way at a time: `person` is the person's column the way shares (household number
    or id number). Kept apart so that each way's lookup is served by its own index: as one condition
    with an OR, neither index could serve it."""
    columns = _columns(award, **{f"person.{way.shared}": person, "day": day})
    return sa.and_(e.to_sql(way.condition, columns), e.to_sql(IN_FORCE, columns))


def in_force_sql(award: sa.FromClause, *, day: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return e.to_sql(IN_FORCE, _columns(award, day=day))
