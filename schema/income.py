"""A household's income assessment as its working: the rule of resolvers/rules/income.py, shown part by part."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import civil_affairs as department
from adapters.store import Record
from resolvers.context import Context
from resolvers.rules import income
from resolvers.rules.regions import county_of
from schema.enums import ResidenceKind
from schema.records import Source, source_of

Info = strawberry.Info[Context, None]


@strawberry.type(
    description="The income assessment of a household's latest economic check (家庭经济状况核对), with its "
    "working: amounts are yuan a year, except the per-capita income and the standard (yuan per person and month)."
)
class IncomeAssessment:
    checked_on: dt.date | None
    annual_income: Decimal | None = strawberry.field(description="Total income, as the check states it.")
    basic_pension: Decimal | None = strawberry.field(description="Received, and excluded from the counted income.")
    counted_income: Decimal | None = strawberry.field(description="Annual income less the basic pension.")
    medical_expense: Decimal | None = strawberry.field(description="Deducted: medical rigid expense.")
    education_expense: Decimal | None = strawberry.field(description="Deducted: education rigid expense.")
    employment_cost: Decimal | None = strawberry.field(description="The employment cost the check states.")
    employment_cap: Decimal | None = strawberry.field(description="At most 30 % of the counted income.")
    employment_deduction: Decimal | None = strawberry.field(
        description="Deducted: the employment cost, or the cap where the cost is above it."
    )
    employment_cap_applied: bool | None = strawberry.field(description="The cap, not the stated cost, was deducted.")
    deductions: Decimal | None = strawberry.field(description="The three deductions together.")
    persons: int | None
    per_capita_monthly_income: Decimal | None = strawberry.field(
        description="(Counted income - deductions) / persons / 12, never below 0; shown to the fen, compared exactly."
    )
    standard_county_code: str | None = strawberry.field(description="The county of the standard compared with.")
    standard_year: int | None = strawberry.field(description="Its year: the year of the check.")
    standard_residence_kind: ResidenceKind | None = strawberry.field(
        description="Its kind, urban or rural: the household's kind in the registry."
    )
    monthly_standard: Decimal | None = strawberry.field(
        description="The dibao standard compared with; empty when none is known for that county, year and kind."
    )
    below_standard: bool | None = strawberry.field(
        description="Per-capita monthly income below the standard; empty without a standard."
    )
    below_twice_standard: bool | None = strawberry.field(
        description="Below twice the standard: a low-income household (低收入家庭); empty without a standard."
    )
    source: Source | None


def assessment_of(info: Info, household: Record) -> IncomeAssessment | None:
    """The assessment of the household's latest check as of the request's day; None without a check."""
    context = info.context
    checks = context.records(department.ECONOMIC_CHECK, "household_number", household["household_number"])
    check = income.latest_check(checks, day=context.access.today)
    if check is None:
        return None
    county = county_of(household["region_code"])
    standards = context.records(department.DIBAO_STANDARD, "county_code", county)
    applying = income.standard_record_for(standards, household=household, check=check)
    working = income.assess(check, standard=None if applying is None else Decimal(applying["monthly_standard"]))
    values = {
        "checked_on": check["checked_on"],
        "annual_income": check["annual_income"],
        "basic_pension": check["basic_pension"],
        "counted_income": working.counted_income,
        "medical_expense": working.medical_expense,
        "education_expense": working.education_expense,
        "employment_cost": working.employment_cost,
        "employment_cap": working.employment_cap,
        "employment_deduction": working.employment_deduction,
        "employment_cap_applied": working.cap_applied,
        "deductions": working.deductions,
        "persons": check["persons"],
        "per_capita_monthly_income": working.per_capita_monthly,
        # The standard as the rule found it (its county, year and kind): all empty when none applies.
        "standard_county_code": None if applying is None else applying["county_code"],
        "standard_year": None if applying is None else applying["year"],
        "standard_residence_kind": None if applying is None else ResidenceKind[applying["residence_kind"]],
        "monthly_standard": working.standard,
        "below_standard": working.below_standard,
        "below_twice_standard": working.below_twice_standard,
        "source": source_of(context.access, department.ECONOMIC_CHECK, check),
    }
    context.access.apply("IncomeAssessment", values, check)
    return IncomeAssessment(**values)
