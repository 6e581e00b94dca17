"""The four alert kinds as set-based SQL over the department tables as of day D: each one statement that
returns only the evidence not yet raised.

A kind's statement yields one row per evidence record of a household the kind holds for, among the
households in scope, leaving out every record already in `alert_evidence` for that (kind, household):
the database, not a loop over households, decides what is new. Each row carries the household, its
region (the registry's division code), the record's key and the values that triggered it.

    MEDICAL_COSTS          the members' (registry) settlements dated (discharge, else admission) in the
                           window, when their out-of-pocket sum is above the threshold: the lower one for
                           a household registered poor or monitored on D
    SEVERE_DISABILITY      a member's certificate of a severe grade issued in the window
    TEMPORARY_ASSISTANCE   a case of the household (its hh, else its applicant's household) for one of
                           the causes, applied for in the window; jzlx=1 is an emergency
    INCOME_BELOW_STANDARD  the latest check on D is below the dibao standard; a household on dibao on D
                           (an in-force whole-household award) is skipped when the rules say so

The window is (D - window_months, D]. Shared rules come from resolvers/rules/.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, disability, medical, poverty, registry
from adapters import vocabulary as v
from adapters.as_of import current_on
from adapters.base import FileSpec
from casework.tables import alert_evidence
from casework.warnings import rules as r
from resolvers.rules import dibao as dibao_rule
from resolvers.rules import expressions as e
from resolvers.rules import income, periods
from resolvers.rules import poverty as poverty_rule
from resolvers.rules.regions import Region, in_regions


def department_table(spec: FileSpec, day: dt.date) -> sa.FromClause:
    """The records of `spec` current on `day` (adapters/as_of.py): every kind reads department data
    through this one function, so a scan as of a past day reads that day's snapshot."""
    return current_on(spec, day)


def window_start(day: dt.date, months: int) -> dt.date:
    """The (excluded) first day of the window: the shared definition of resolvers/rules/periods.py."""
    return periods.months_before(day, months)


@dataclass(frozen=True)
class Scope:
    """The households a scan looks at: those in `regions`, or those named (a list, or a statement of
    household numbers, such as the households an ingest changed)."""

    regions: tuple[Region, ...] | None = None
    households: Sequence[str] | sa.Select[Any] | None = None

    def condition(self, household: sa.FromClause) -> sa.ColumnElement[bool]:
        conditions: list[sa.ColumnElement[bool]] = []
        if self.regions is not None:
            conditions.append(in_regions(household.c.region_code, self.regions, inline=True))
        if self.households is not None:
            named = self.households if isinstance(self.households, sa.Select) else list(self.households)
            conditions.append(household.c.household_number.in_(named))
        return sa.and_(sa.true(), *conditions)


@dataclass(frozen=True)
class Kind:
    code: str
    spec: FileSpec  # the evidence's table
    values: tuple[str, ...]  # the store columns of the evidence record its values show
    statement: Callable[[Kind, Scope, dt.date, r.WarningRules], sa.Select[Any]]

    def evidence_prefix(self) -> str:
        return f"{self.spec.department}/{self.spec.name}/"


def _date(day: dt.date) -> sa.BindParameter[Any]:
    # Rendered into the text (as the student rules do): PostgreSQL then plans with the real day.
    return sa.literal(day, sa.Date(), literal_execute=True)


def _new(kind: Kind, household_number: sa.ColumnElement[Any], record: sa.FromClause) -> sa.ColumnElement[bool]:
    """Evidence not yet raised for the household under this kind."""
    key = sa.literal(kind.evidence_prefix(), sa.String()) + record.c.record_key
    return ~sa.exists().where(
        alert_evidence.c.kind == kind.code,
        alert_evidence.c.household_number == household_number,
        alert_evidence.c.evidence_key == key,
    )


def _columns(kind: Kind, record: sa.FromClause, household: sa.FromClause, emergency: Any) -> list[Any]:
    return [
        household.c.household_number.label("household_number"),
        household.c.region_code.label("region_code"),
        record.c.record_key.label("record_key"),
        sa.cast(emergency, sa.Boolean).label("emergency"),
        *(record.c[name].label(f"value_{name}") for name in kind.values),
    ]


# ---- "registered poor" and "monitored" on D -------------------------------------------------------
def _registered_poor_on(household_number: sa.ColumnElement[Any], day: dt.date) -> sa.ColumnElement[bool]:
    poor = department_table(poverty.REGISTERED_POOR, day)
    year = sa.literal(day.year, sa.Integer(), literal_execute=True)
    return sa.exists().where(poverty_rule.registered_poor_on_sql(poor, household_number=household_number, year=year))


def _monitored_on(household_number: sa.ColumnElement[Any], day: dt.date) -> sa.ColumnElement[bool]:
    monitored = department_table(poverty.MONITORED, day)
    on = _date(day)
    return sa.exists().where(poverty_rule.monitored_on_sql(monitored, household_number=household_number, day=on))


# ---- the kinds -------------------------------------------------------------------------------------


def _in_window(column: sa.ColumnElement[Any], day: dt.date, rules: r.WarningRules) -> sa.ColumnElement[bool]:
    return sa.and_(column > _date(window_start(day, rules.window_months)), column <= _date(day))


def _medical_costs(kind: Kind, scope: Scope, day: dt.date, rules: r.WarningRules) -> sa.Select[Any]:
    settlement = department_table(medical.SETTLEMENT, day)
    person = department_table(registry.PERSONS, day)
    household = department_table(registry.HOUSEHOLDS, day)
    dated = sa.func.coalesce(settlement.c.to_date, settlement.c.from_date)
    # In whole fen, so that a sum exactly at the threshold is exactly at it on SQLite too.
    total = sa.func.sum(e.fen(sa.func.coalesce(settlement.c.out_of_pocket, 0)))
    lower = _fen(rules.medical_threshold_registered_or_monitored)
    threshold = sa.case(
        (
            sa.or_(
                _registered_poor_on(household.c.household_number, day),
                _monitored_on(household.c.household_number, day),
            ),
            lower,
        ),
        else_=_fen(rules.medical_threshold_other),
    )
    above = (
        sa.select(household.c.household_number)
        .select_from(
            household.join(person, person.c.household_number == household.c.household_number).join(
                settlement, settlement.c.id_number == person.c.id_number
            )
        )
        .where(scope.condition(household), _in_window(dated, day, rules))
        .group_by(household.c.household_number)
        .having(total > threshold)
        .cte("above_threshold")
    )
    return (
        sa.select(*_columns(kind, settlement, household, sa.false()))
        .select_from(
            above.join(household, household.c.household_number == above.c.household_number)
            .join(person, person.c.household_number == household.c.household_number)
            .join(settlement, settlement.c.id_number == person.c.id_number)
        )
        .where(_in_window(dated, day, rules), _new(kind, household.c.household_number, settlement))
    )


def _fen(amount: Any) -> sa.ColumnElement[Any]:
    return sa.literal_column(str(int(amount * 100)), sa.Integer())


def _severe_disability(kind: Kind, scope: Scope, day: dt.date, rules: r.WarningRules) -> sa.Select[Any]:
    certificate = department_table(disability.CERTIFICATE, day)
    person = department_table(registry.PERSONS, day)
    household = department_table(registry.HOUSEHOLDS, day)
    return (
        sa.select(*_columns(kind, certificate, household, sa.false()))
        .select_from(
            certificate.join(person, person.c.id_number == certificate.c.id_number).join(
                household, household.c.household_number == person.c.household_number
            )
        )
        .where(
            certificate.c.grade.in_(rules.severe_grades),
            _in_window(certificate.c.issued_on, day, rules),
            scope.condition(household),
            _new(kind, household.c.household_number, certificate),
        )
    )


def _temporary_assistance(kind: Kind, scope: Scope, day: dt.date, rules: r.WarningRules) -> sa.Select[Any]:
    case = department_table(civil_affairs.TEMPORARY_ASSISTANCE, day)
    applicant = department_table(registry.PERSONS, day)
    household = department_table(registry.HOUSEHOLDS, day)
    # The case's own household number; a case filed without one belongs to its applicant's household.
    of_household = sa.func.coalesce(case.c.household_number, applicant.c.household_number)
    emergency = sa.func.coalesce(case.c.kind == v.TemporaryAssistanceKind.EMERGENCY.name, sa.false())
    return (
        sa.select(*_columns(kind, case, household, emergency))
        .select_from(
            case.outerjoin(applicant, applicant.c.id_number == case.c.id_number).join(
                household, household.c.household_number == of_household
            )
        )
        .where(
            case.c.cause.in_(rules.temporary_causes),
            _in_window(case.c.applied_on, day, rules),
            scope.condition(household),
            _new(kind, household.c.household_number, case),
        )
    )


def _income_below_standard(kind: Kind, scope: Scope, day: dt.date, rules: r.WarningRules) -> sa.Select[Any]:
    check = department_table(civil_affairs.ECONOMIC_CHECK, day)
    standards = department_table(civil_affairs.DIBAO_STANDARD, day)
    award = department_table(civil_affairs.DIBAO, day)
    household = department_table(registry.HOUSEHOLDS, day)
    standard = income.standard_sql(standards, household=household, checked_on=check.c.checked_on)
    conditions = [
        income.latest_check_sql(check, day=_date(day)),
        income.below_standard_sql(check, standard=standard),
        scope.condition(household),
        _new(kind, household.c.household_number, check),
    ]
    if rules.skip_dibao_households:
        on_dibao = dibao_rule.covered_on_sql(
            award, way=dibao_rule.BY_HOUSEHOLD, person=check.c.household_number, day=_date(day)
        )
        conditions.append(~sa.exists().where(on_dibao))
    return (
        sa.select(*_columns(kind, check, household, sa.false()), standard.label("value_monthly_standard"))
        .select_from(check.join(household, household.c.household_number == check.c.household_number))
        .where(*conditions)
    )


KINDS: dict[str, Kind] = {
    kind.code: kind
    for kind in (
        Kind(
            r.MEDICAL_COSTS,
            medical.SETTLEMENT,
            ("id_number", "kind", "from_date", "to_date", "out_of_pocket"),
            _medical_costs,
        ),
        Kind(
            r.SEVERE_DISABILITY,
            disability.CERTIFICATE,
            ("id_number", "grade", "issued_on", "valid_until"),
            _severe_disability,
        ),
        Kind(
            r.TEMPORARY_ASSISTANCE,
            civil_affairs.TEMPORARY_ASSISTANCE,
            ("id_number", "household_number", "kind", "cause", "applied_on", "amount"),
            _temporary_assistance,
        ),
        Kind(
            r.INCOME_BELOW_STANDARD,
            civil_affairs.ECONOMIC_CHECK,
            ("household_number", "checked_on", "persons", "annual_income"),
            _income_below_standard,
        ),
    )
}
"""Literal, in the order of `rules.KINDS`: one entry per kind."""


def new_evidence(kind: Kind, *, scope: Scope, day: dt.date, rules: r.WarningRules) -> sa.Select[Any]:
    """The statement of `kind`'s evidence not yet raised, for the households in `scope` on `day`."""
    return kind.statement(kind, scope, day, rules)
