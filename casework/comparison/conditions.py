"""The pieces the comparison rules share, as SQL over a day's snapshots: who is on dibao or in extreme-poverty
support on D, whose household lies in the run's region, and how a rule's findings become evidence rows.

Every condition here is built from the one home of its rule (resolvers/rules/): dibao coverage with
gradual exit, periods, the poverty registers. A rule's statement is a CTE of its findings (one row per
subject and programme, with the keys of the records that decided it) and a UNION ALL of one SELECT per
kind of evidence, joining the findings to that evidence's table: one row per (finding, evidence record).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, registry
from adapters import vocabulary as v
from adapters.base import FileSpec
from resolvers.rules import dibao as dibao_rule
from resolvers.rules.periods import WINDOW_MONTHS, in_force_sql
from resolvers.rules.regions import Region, in_regions

Tables = Callable[[FileSpec], sa.FromClause]

FINDING_COLUMNS = ("subject", "programme", "household_number", "id_number", "region_code")
"""What every rule's findings CTE starts with, in this order."""


@dataclass(frozen=True)
class Scope:
    """What a rule is evaluated over: the as-of day, its snapshots, the run's region, the term (C3)."""

    day: dt.date
    region: Region
    tables: Tables
    term: str | None = None
    window_months: int = WINDOW_MONTHS

    @property
    def day_sql(self) -> sa.BindParameter[Any]:
        # Rendered into the statement's text, as student aid's days are: PostgreSQL plans with the value.
        return literal(self.day, sa.Date())

    @property
    def year_sql(self) -> sa.BindParameter[Any]:
        return literal(self.day.year, sa.Integer())

    def __call__(self, spec: FileSpec) -> sa.FromClause:
        return self.tables(spec)


def literal(value: Any, type_: sa.types.TypeEngine[Any]) -> sa.BindParameter[Any]:
    return sa.literal(value, type_, literal_execute=True)


def text(value: str) -> sa.ColumnElement[str]:
    """A constant string of the rules (a programme, a code): rendered as SQL text, never a parameter."""
    return sa.literal_column("'" + value.replace("'", "''") + "'", sa.String())


def no_id() -> sa.ColumnElement[Any]:
    """The id_number of a household rule's finding."""
    return sa.cast(sa.null(), sa.String(18))


def in_region(scope: Scope, households: sa.FromClause) -> sa.ColumnElement[bool]:
    return in_regions(households.c.region_code, [scope.region], inline=True)


def household_on_dibao(scope: Scope, award: sa.FromClause, household: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The rows of `award` that put a household on dibao on D: an in-force whole-household award of it."""
    return sa.and_(
        award.c.household_number == household,
        award.c.coverage == text(v.DibaoCoverage.WHOLE_HOUSEHOLD.name),
        dibao_rule.in_force_sql(award, day=scope.day_sql),
    )


def person_awards(
    scope: Scope, award: sa.FromClause, *, id_number: sa.ColumnElement[Any], household: sa.ColumnElement[Any]
) -> list[sa.ColumnElement[bool]]:
    """One condition per way an award covers a person (dibao_rule.WAYS): the rows of `award` that put the
    person on dibao on D."""
    shared = {"household_number": household, "id_number": id_number}
    return [
        dibao_rule.covered_on_sql(award, way=way, person=shared[way.shared], day=scope.day_sql)
        for way in dibao_rule.WAYS
    ]


def person_on_dibao(
    scope: Scope, *, id_number: sa.ColumnElement[Any], household: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    award = scope(civil_affairs.DIBAO)
    ways = person_awards(scope, award, id_number=id_number, household=household)
    return sa.or_(*(sa.exists().where(way) for way in ways))


def in_support(scope: Scope, support: sa.FromClause, id_number: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The rows of `support` (tekun) that put a person in extreme-poverty support on D."""
    return sa.and_(
        support.c.id_number == id_number,
        in_force_sql(support.c.start_date, support.c.end_date, day=scope.day_sql),
    )


def on_dibao_or_in_support(
    scope: Scope, *, id_number: sa.ColumnElement[Any], household: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    support = scope(civil_affairs.EXTREME_POVERTY)
    return sa.or_(
        person_on_dibao(scope, id_number=id_number, household=household),
        sa.exists().where(in_support(scope, support, id_number)),
    )


def registered_persons(scope: Scope) -> tuple[sa.FromClause, sa.FromClause, sa.Join]:
    """The registry's persons and households on D, joined: person rules place a person by their household."""
    persons, households = scope(registry.PERSONS), scope(registry.HOUSEHOLDS)
    return persons, households, persons.join(households, households.c.household_number == persons.c.household_number)


def person_finding(persons: sa.FromClause, households: sa.FromClause, programme: str) -> list[Any]:
    return [
        persons.c.id_number.label("subject"),
        text(programme).label("programme"),
        persons.c.household_number.label("household_number"),
        persons.c.id_number.label("id_number"),
        households.c.region_code.label("region_code"),
    ]


def household_finding(households: sa.FromClause, programme: str) -> list[Any]:
    return [
        households.c.household_number.label("subject"),
        text(programme).label("programme"),
        households.c.household_number.label("household_number"),
        no_id().label("id_number"),
        households.c.region_code.label("region_code"),
    ]


def evidence(findings: sa.CTE, spec: FileSpec, record: sa.FromClause, on: sa.ColumnElement[bool]) -> sa.Select[Any]:
    """One kind of evidence: every record of `record` (spec's snapshot) joined to a finding by `on`."""
    return sa.select(
        *(findings.c[name] for name in FINDING_COLUMNS),
        text(spec.department).label("department"),
        text(spec.name).label("source_table"),
        record.c.record_key.label("record_key"),
    ).select_from(findings.join(record, on))


def award_evidence(
    scope: Scope, findings: sa.CTE, *, only: sa.ColumnElement[bool] | None = None
) -> list[sa.Select[Any]]:
    """The dibao awards and the extreme-poverty support that put a person finding's subject in reach on D."""
    award = scope(civil_affairs.DIBAO)
    support = scope(civil_affairs.EXTREME_POVERTY)
    ways = person_awards(scope, award, id_number=findings.c.id_number, household=findings.c.household_number)
    branches = [evidence(findings, civil_affairs.DIBAO, award, way) for way in ways]
    branches.append(
        evidence(findings, civil_affairs.EXTREME_POVERTY, support, in_support(scope, support, findings.c.id_number))
    )
    return [branch if only is None else branch.where(only) for branch in branches]


def statement(findings: sa.CTE, branches: list[sa.Select[Any]]) -> sa.CompoundSelect[Any]:
    """The rule's one statement, its rows ordered so that a finding's evidence rows come together."""
    rows = sa.union_all(*branches)
    selected = rows.selected_columns
    return rows.order_by(selected.subject, selected.programme, selected.department, selected.source_table)
