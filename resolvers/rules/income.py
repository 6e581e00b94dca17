"""The income assessment (docs/domain.md): a household's latest economic check against the
dibao standard of its county, as Python with its working and as SQL, both from the definition below.

    counted income   = nsr - jcylj                              (the basic pension is not counted)
    deductions       = ylzc + jyzc + min(jycb, 30% of counted income)
    per-capita month = max(counted income - deductions, 0) / rs / 12
    below standard   : per-capita month < the standard of the county, for the check's year and
                       the household's urban/rural kind; low income: < 2 x that standard

Empty amounts count as 0. Without a standard to compare with (none for that county, year and kind,
or a household of unknown kind) the verdicts are unknown (None, and false in SQL). The verdicts are
exact: Python compares fractions, SQL compares multiplied out, never dividing or rounding.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

import sqlalchemy as sa

from resolvers.rules import expressions as e
from resolvers.rules import regions

# One check's values (civil affairs' hdxx), amounts in yuan a year, and the standard it is held against.
ANNUAL_INCOME = e.value("annual_income", "money")  # nsr
BASIC_PENSION = e.value("basic_pension", "money")  # jcylj
MEDICAL_EXPENSE = e.value("medical_expense", "money")  # ylzc
EDUCATION_EXPENSE = e.value("education_expense", "money")  # jyzc
EMPLOYMENT_COST = e.value("employment_cost", "money")  # jycb
PERSONS = e.value("persons", "number")  # rs: 1-99, checked at ingest
STANDARD = e.value("monthly_standard", "money")  # bzbz.bz: yuan per person and month

EMPLOYMENT_CAP_SHARE = Fraction(3, 10)
"""At most this share of the counted income is deducted as employment cost."""

COUNTED_INCOME = ANNUAL_INCOME - e.coalesce(BASIC_PENSION, 0)
EMPLOYMENT_CAP = COUNTED_INCOME * EMPLOYMENT_CAP_SHARE
EMPLOYMENT_DEDUCTION = e.least(e.coalesce(EMPLOYMENT_COST, 0), EMPLOYMENT_CAP)
DEDUCTIONS = e.coalesce(MEDICAL_EXPENSE, 0) + e.coalesce(EDUCATION_EXPENSE, 0) + EMPLOYMENT_DEDUCTION
PER_CAPITA_MONTHLY = e.greatest(COUNTED_INCOME - DEDUCTIONS, 0) / (PERSONS * 12)
BELOW_STANDARD = PER_CAPITA_MONTHLY < STANDARD
BELOW_TWICE_STANDARD = PER_CAPITA_MONTHLY < STANDARD * 2
CAP_APPLIED = e.coalesce(EMPLOYMENT_COST, 0) > EMPLOYMENT_CAP


def _year(day: dt.date) -> int:
    return day.year


# Which standard applies: the household's county, the year of the check, the household's kind.
_STANDARD_APPLIES = e.all_of(
    e.value("standard.county_code", "text").equals(
        e.apply("county", regions.county_of, regions.county_sql, e.value("household.region_code", "text"), kind="text")
    ),
    e.value("standard.year", "number").equals(
        e.apply("year", _year, lambda day: sa.extract("year", day), e.value("check.checked_on", "date"), kind="number")
    ),
    e.value("standard.residence_kind", "text").equals(e.value("household.residence_kind", "text")),
)

# The latest check on a day: checked on or before it, and no check of the household since, up to that day.
_CHECKED_BY_DAY = e.value("check.checked_on", "date") <= e.value("day", "date")
_NEWER_BY_DAY = e.all_of(
    e.value("other.household_number", "text").equals(e.value("check.household_number", "text")),
    e.value("other.checked_on", "date") > e.value("check.checked_on", "date"),
    e.value("other.checked_on", "date") <= e.value("day", "date"),
)


@dataclass(frozen=True)
class Assessment:
    """The working of one check's assessment, each part as docs/domain.md names it."""

    counted_income: Decimal  # annual income less the basic pension
    medical_expense: Decimal
    education_expense: Decimal
    employment_cost: Decimal  # as the check states it
    employment_cap: Decimal  # 30% of the counted income
    employment_deduction: Decimal  # the smaller of the two
    cap_applied: bool  # the cap, not the stated cost, was deducted
    deductions: Decimal
    per_capita_monthly: Decimal  # rounded to the fen for showing; the verdicts compare it exactly
    standard: Decimal | None
    below_standard: bool | None  # None: no standard to compare with
    below_twice_standard: bool | None


def assess(check: Mapping[str, Any], *, standard: Decimal | None) -> Assessment:
    """The Python form: one check's values (a stored `hdxx` record) against the standard that applies."""
    values = {**check, "monthly_standard": standard}
    return Assessment(
        counted_income=_amount(e.evaluate(COUNTED_INCOME, values)),
        medical_expense=_amount(e.evaluate(e.coalesce(MEDICAL_EXPENSE, 0), values)),
        education_expense=_amount(e.evaluate(e.coalesce(EDUCATION_EXPENSE, 0), values)),
        employment_cost=_amount(e.evaluate(e.coalesce(EMPLOYMENT_COST, 0), values)),
        employment_cap=_amount(e.evaluate(EMPLOYMENT_CAP, values)),
        employment_deduction=_amount(e.evaluate(EMPLOYMENT_DEDUCTION, values)),
        cap_applied=e.holds(CAP_APPLIED, values),
        deductions=_amount(e.evaluate(DEDUCTIONS, values)),
        per_capita_monthly=_amount(e.evaluate(PER_CAPITA_MONTHLY, values)),
        standard=standard,
        below_standard=e.evaluate(BELOW_STANDARD, values),
        below_twice_standard=e.evaluate(BELOW_TWICE_STANDARD, values),
    )


def _amount(exact: Fraction | None) -> Decimal:
    if exact is None:
        raise ValueError("an economic check needs its annual income (nsr) and its persons (rs)")
    # 30% of an amount in fen has three decimals at most: shown exactly. A per-capita share may not end.
    for places in (2, 3):
        scaled = exact * 10**places
        if scaled.denominator == 1:
            return Decimal(scaled.numerator).scaleb(-places)
    rounded = (Decimal(exact.numerator) / Decimal(exact.denominator)).quantize(Decimal("0.01"), ROUND_HALF_UP)
    return rounded


_CHECK_VALUES = ("annual_income", "basic_pension", "medical_expense", "education_expense", "employment_cost", "persons")


def condition_sql(
    condition: e.Node, check: sa.FromClause, *, standard: sa.ColumnElement[Any]
) -> sa.ColumnElement[bool]:
    """The SQL form of a condition on the terms above, for the rows of `check` (the checks table or an
    alias of it) and the standard that applies to each (see `standard_sql`)."""
    columns = {**{name: check.c[name] for name in _CHECK_VALUES}, "monthly_standard": standard}
    return e.to_sql(condition, columns)


def below_standard_sql(check: sa.FromClause, *, standard: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    return condition_sql(BELOW_STANDARD, check, standard=standard)


def below_twice_standard_sql(check: sa.FromClause, *, standard: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The low-income test of seed 004."""
    return condition_sql(BELOW_TWICE_STANDARD, check, standard=standard)


def standard_for(
    standards: Iterable[Mapping[str, Any]], *, household: Mapping[str, Any], check: Mapping[str, Any]
) -> Decimal | None:
    """The Python form of the standard that applies to a check of a household (`bzbz` records)."""
    applying = standard_record_for(standards, household=household, check=check)
    return None if applying is None else Decimal(applying["monthly_standard"])


def standard_record_for(
    standards: Iterable[Mapping[str, Any]], *, household: Mapping[str, Any], check: Mapping[str, Any]
) -> Mapping[str, Any] | None:
    """The `bzbz` record that applies to a check of a household, for showing which standard (county, year,
    urban or rural) the assessment was compared with."""
    for standard in standards:
        values = {
            **_prefixed("standard", standard),
            **_prefixed("household", household),
            "check.checked_on": check["checked_on"],
        }
        if e.holds(_STANDARD_APPLIES, values):
            return standard
    return None


def standard_sql(
    standards: sa.FromClause,
    *,
    household: sa.FromClause,
    checked_on: sa.ColumnElement[Any],
    column: str = "monthly_standard",
) -> sa.ScalarSelect[Any]:
    """The SQL form of `standard_for`, a scalar subquery: the planner cannot join every check to every
    county's standard first, and a missing standard is NULL, which no comparison passes. `column`
    names what it gives of the standard that applies (`record_key`: which one, for evidence)."""
    columns = {
        **{f"standard.{name}": standards.c[name] for name in ("county_code", "year", "residence_kind")},
        **{f"household.{name}": household.c[name] for name in ("region_code", "residence_kind")},
        "check.checked_on": checked_on,
    }
    return sa.select(standards.c[column]).where(e.to_sql(_STANDARD_APPLIES, columns)).scalar_subquery()


def latest_check(checks: Iterable[Mapping[str, Any]], *, day: dt.date) -> Mapping[str, Any] | None:
    """The Python form of the check that decides on `day`, among one household's checks."""
    found = list(checks)
    for check in found:
        values = {**_prefixed("check", check), "day": day}
        newer = (e.holds(_NEWER_BY_DAY, {**values, **_prefixed("other", other)}) for other in found)
        if e.holds(_CHECKED_BY_DAY, values) and not any(newer):
            return check
    return None


def latest_check_sql(check: sa.FromClause, *, day: sa.ColumnElement[Any]) -> sa.ColumnElement[bool]:
    """The SQL form of `latest_check`, for the rows of the checks table: later checks of the same household
    by `day` are looked up through an alias of it."""
    newer = check.alias("newer_check")
    values = {
        "check.checked_on": check.c.checked_on,
        "check.household_number": check.c.household_number,
        "other.checked_on": newer.c.checked_on,
        "other.household_number": newer.c.household_number,
        "day": day,
    }
    return sa.and_(e.to_sql(_CHECKED_BY_DAY, values), ~sa.exists().where(e.to_sql(_NEWER_BY_DAY, values)))


def _prefixed(prefix: str, record: Mapping[str, Any]) -> dict[str, Any]:
    return {f"{prefix}.{name}": found for name, found in record.items()}
