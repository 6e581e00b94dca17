"""The income assessment says what docs/domain.md says: hand-worked checks, standards and latest checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest

from resolvers.rules import income

HOUSEHOLD = "350583000001"


def _check(**values: Any) -> dict[str, Any]:
    amounts = {"medical_expense": None, "education_expense": None, "employment_cost": None, "basic_pension": None}
    return {"checked_on": dt.date(2026, 6, 30), "persons": 3, **amounts, **values}


def test_the_assessment_shows_its_working_with_the_cap_applied() -> None:
    # given a household of 3: 30,000 a year including a 2,400 basic pension, 1,000 medical and
    # 500 education expenses, 9,000 employment costs claimed; the standard is 930 a month
    check = _check(
        annual_income=Decimal("30000.00"),
        basic_pension=Decimal("2400.00"),
        medical_expense=Decimal("1000.00"),
        education_expense=Decimal("500.00"),
        employment_cost=Decimal("9000.00"),
    )
    # when it is assessed
    working = income.assess(check, standard=Decimal("930.00"))
    # then the pension is not counted, the employment cost is capped at 30% of 27,600, and
    # (27,600 - 1,000 - 500 - 8,280) / 3 / 12 = 495 a month is below the standard and below twice it
    assert working == income.Assessment(
        counted_income=Decimal("27600.00"),
        medical_expense=Decimal("1000.00"),
        education_expense=Decimal("500.00"),
        employment_cost=Decimal("9000.00"),
        employment_cap=Decimal("8280.00"),
        employment_deduction=Decimal("8280.00"),
        cap_applied=True,
        deductions=Decimal("9780.00"),
        per_capita_monthly=Decimal("495.00"),
        standard=Decimal("930.00"),
        below_standard=True,
        below_twice_standard=True,
    )


@pytest.mark.parametrize(
    ("annual_income", "below", "below_twice"),
    [
        # 3 persons x 12 months x 930 = 33,480 a year; twice that 66,960
        ("33479.99", True, True),
        ("33480.00", False, True),
        ("66959.99", False, True),
        ("66960.00", False, False),
    ],
)
def test_the_verdicts_compare_exactly_at_the_standard(annual_income: str, below: bool, below_twice: bool) -> None:
    # given a check whose per-capita income is at or a fen below the standard or twice the standard
    check = _check(annual_income=Decimal(annual_income))
    # when it is assessed, then only an income strictly below counts as below
    working = income.assess(check, standard=Decimal("930.00"))
    assert (working.below_standard, working.below_twice_standard) == (below, below_twice)


def test_an_uncapped_cost_empty_amounts_and_a_share_that_does_not_end() -> None:
    # given 3 persons, 20,000 a year and 100.01 employment costs; nothing else stated
    working = income.assess(
        _check(annual_income=Decimal("20000.00"), employment_cost=Decimal("100.01")), standard=Decimal("930.00")
    )
    # then the cost is deducted as stated, empty amounts count as 0, and 19,899.99 / 36 is shown to the fen
    assert (working.employment_deduction, working.cap_applied) == (Decimal("100.01"), False)
    assert (working.medical_expense, working.deductions) == (Decimal("0.00"), Decimal("100.01"))
    assert working.per_capita_monthly == Decimal("552.78")
    # and a cap with a third decimal is shown exactly: 30% of 0.01 counted yuan
    tiny = income.assess(_check(annual_income=Decimal("0.01"), employment_cost=Decimal(1)), standard=None)
    assert (tiny.employment_cap, tiny.employment_deduction) == (Decimal("0.003"), Decimal("0.003"))


def test_no_counted_income_is_floored_at_zero_and_no_standard_gives_no_verdict() -> None:
    # given a household whose only income is its basic pension, and medical costs besides
    check = _check(annual_income=Decimal("1500.00"), basic_pension=Decimal("1500.00"), medical_expense=Decimal(10))
    # when it is assessed with and without a standard
    with_standard = income.assess(check, standard=Decimal("930.00"))
    without = income.assess(check, standard=None)
    # then its per-capita income is 0, below the standard; without a standard nothing is decided
    assert (with_standard.counted_income, with_standard.per_capita_monthly) == (Decimal("0.00"), Decimal("0.00"))
    assert with_standard.below_standard is True
    assert (without.below_standard, without.below_twice_standard) == (None, None)


STANDARDS = [
    {"county_code": "350583", "year": 2026, "residence_kind": "URBAN", "monthly_standard": Decimal("930.00")},
    {"county_code": "350583", "year": 2026, "residence_kind": "RURAL", "monthly_standard": Decimal("850.00")},
    {"county_code": "350583", "year": 2025, "residence_kind": "URBAN", "monthly_standard": Decimal("900.00")},
]


@pytest.mark.parametrize(
    ("region_code", "kind", "checked_on", "standard"),
    [
        ("350583101201", "URBAN", dt.date(2026, 1, 1), Decimal("930.00")),
        ("350583101201", "RURAL", dt.date(2026, 12, 31), Decimal("850.00")),
        ("350583101201", "URBAN", dt.date(2025, 12, 31), Decimal("900.00")),  # the check's year, not today's
        ("350583101201", "RURAL", dt.date(2025, 6, 1), None),
        ("350524101201", "URBAN", dt.date(2026, 1, 1), None),  # another county
        ("350583101201", None, dt.date(2026, 1, 1), None),  # a household of unknown kind
    ],
)
def test_the_standard_is_the_county_s_for_the_year_and_kind(
    region_code: str, kind: str | None, checked_on: dt.date, standard: Decimal | None
) -> None:
    household = {"region_code": region_code, "residence_kind": kind}
    assert income.standard_for(STANDARDS, household=household, check={"checked_on": checked_on}) == standard


def test_the_latest_check_on_or_before_the_day_decides() -> None:
    checks = [{"household_number": HOUSEHOLD, "checked_on": dt.date(2026, month, 1)} for month in (3, 6)]
    assert income.latest_check(checks, day=dt.date(2026, 6, 1)) is checks[1]  # a check on the day counts
    assert income.latest_check(checks, day=dt.date(2026, 5, 31)) is checks[0]
    assert income.latest_check(checks, day=dt.date(2026, 2, 28)) is None
