"""Each alert kind at, below and above its threshold and at the edges of its window (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import sqlalchemy as sa

from casework.tables import alert
from casework.warnings import rules as r
from casework.warnings.kinds import window_start
from casework.warnings.rules import default_rules
from casework.warnings.scan import scan
from resolvers.rules.regions import Region
from tests.casework.warnings.records import (
    HEAD,
    HOUSEHOLD,
    NOW,
    OTHER,
    OTHER_HEAD,
    SPOUSE,
    D,
    certificate,
    check,
    dibao,
    household,
    monitored,
    registered_poor,
    settlement,
    standard,
    temporary_case,
)
from webhooks.clock import utc

RULES = default_rules()
NAN_AN = [Region("350583")]
DAY = dt.timedelta(days=1)
YEAR_AGO = window_start(D, 12)  # excluded: the window is (D - 12 months, D]


def _alerts(connection: sa.Connection, kind: str) -> dict[str, list[str]]:
    """Household -> the record keys of its alert's evidence, for one kind, after a scan on D."""
    scan(connection, regions=NAN_AN, as_of=D, now=NOW, rules=RULES)
    rows = connection.execute(sa.select(alert).where(alert.c.kind == kind)).mappings()
    return {row["household_number"]: [item["recordKey"] for item in row["evidence"]] for row in rows}


def test_the_window_is_the_twelve_months_before_the_day() -> None:
    assert window_start(dt.date(2026, 12, 1), 12) == dt.date(2025, 12, 1)
    assert window_start(dt.date(2028, 2, 29), 12) == dt.date(2027, 2, 28)
    assert window_start(dt.date(2026, 3, 31), 1) == dt.date(2026, 2, 28)


def test_medical_costs_alert_above_the_threshold_by_household_type(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a registered-poor household whose two members paid 5,000.00 yuan in all, one fen more in the
        # window, and another household (no poverty record) that paid exactly 20,000.00 yuan
        household(connection)
        household(connection, OTHER)
        registered_poor(connection, HOUSEHOLD, year=2016)
        settlement(connection, "S1", HEAD, "2500.10", discharged=D)
        settlement(connection, "S2", SPOUSE, "2499.90", discharged=YEAR_AGO + DAY)
        settlement(connection, "S3", OTHER_HEAD, "20000.00", discharged=D - 30 * DAY)
        # when the scan runs, then neither is above its threshold (at it raises nothing)
        assert _alerts(connection, r.MEDICAL_COSTS) == {}
        # given one fen more for each household
        settlement(connection, "S4", SPOUSE, "0.01", discharged=D - 2 * DAY)
        settlement(connection, "S5", OTHER_HEAD, "0.01", discharged=None, admitted=D)  # dated by admission
        # then both raise, with every settlement of the window as evidence
        assert _alerts(connection, r.MEDICAL_COSTS) == {HOUSEHOLD: ["S1", "S2", "S4"], OTHER: ["S3", "S5"]}


def test_medical_costs_of_an_ordinary_household_need_the_higher_threshold(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a household with neither poverty record paying 6,000 yuan, and one monitored since 2025 paying the same
        household(connection)
        household(connection, OTHER)
        monitored(connection, OTHER, entered=dt.date(2025, 5, 1))
        settlement(connection, "S1", HEAD, "6000.00", discharged=D - 10 * DAY)
        settlement(connection, "S2", OTHER_HEAD, "6000.00", discharged=D - 10 * DAY)
        # when the scan runs, then only the monitored household is above its (lower) threshold
        assert _alerts(connection, r.MEDICAL_COSTS) == {OTHER: ["S2"]}


def test_medical_costs_outside_the_window_do_not_count(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a registered-poor household whose costs above the threshold lie on the window's excluded
        # first day and after D
        household(connection)
        registered_poor(connection, HOUSEHOLD, year=None)
        settlement(connection, "S1", HEAD, "6000.00", discharged=YEAR_AGO)
        settlement(connection, "S2", HEAD, "6000.00", discharged=D + DAY)
        # then nothing is raised
        assert _alerts(connection, r.MEDICAL_COSTS) == {}


def test_a_severe_certificate_issued_in_the_window_raises_an_old_one_does_not(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a grade 2 certificate issued 13 months before D (a first ingest of old certificates),
        # a grade 3 issued yesterday, and a grade 1 issued on D itself in another household
        household(connection)
        household(connection, OTHER)
        certificate(connection, HEAD, "C1", grade=2, issued=dt.date(2025, 11, 1))
        certificate(connection, SPOUSE, "C2", grade=3, issued=D - DAY)
        certificate(connection, OTHER_HEAD, "C3", grade=1, issued=D)
        # then only the new severe one raises
        assert _alerts(connection, r.SEVERE_DISABILITY) == {OTHER: ["C3"]}


def test_a_temporary_assistance_case_raises_for_its_causes_and_marks_emergencies(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given an emergency case for illness and an ordinary one for schooling, and in another household an
        # accident case filed without a household number (its applicant's household counts) but applied
        # for before the window
        household(connection)
        household(connection, OTHER)
        temporary_case(connection, "T1", cause="ILLNESS", applied=D, emergency=True, household_number=HOUSEHOLD)
        temporary_case(connection, "T2", cause="SCHOOLING", applied=D, emergency=False, household_number=OTHER)
        temporary_case(connection, "T3", cause="ACCIDENT", applied=YEAR_AGO, emergency=False, household_number=None)
        # then only the illness case raises
        assert _alerts(connection, r.TEMPORARY_ASSISTANCE) == {HOUSEHOLD: ["T1"]}
        # and it is an emergency, due within 12 hours
        raised = connection.execute(sa.select(alert.c.emergency, alert.c.due_at)).one()
        assert raised.emergency is True
        assert utc(raised.due_at) == NOW + dt.timedelta(hours=12)


def test_income_below_the_standard_raises_unless_the_household_is_on_dibao(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a standard of 800 yuan a month, a household whose latest check is 799.99 per person and month
        # (an earlier check above it), and another exactly at the standard
        household(connection)
        household(connection, OTHER)
        standard(connection, "800.00")
        check(connection, HOUSEHOLD, on=dt.date(2026, 1, 10), annual_income="30000.00")
        check(connection, HOUSEHOLD, on=dt.date(2026, 6, 10), annual_income="19199.76")  # 799.99 x 2 x 12
        check(connection, OTHER, on=dt.date(2026, 6, 10), annual_income="9600.00", persons=1)  # 800.00
        # then the household below raises, with its latest check as evidence, and the one at the standard does not
        assert _alerts(connection, r.INCOME_BELOW_STANDARD) == {HOUSEHOLD: [f"{HOUSEHOLD}|2026-06-10"]}


def test_a_dibao_household_below_the_standard_is_skipped_when_the_rules_say_so(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given a household below the standard with a whole-household dibao award in force on D
        household(connection)
        standard(connection, "800.00")
        check(connection, HOUSEHOLD, on=dt.date(2026, 6, 10), annual_income="12000.00")
        dibao(connection, HOUSEHOLD, start=dt.date(2026, 7, 1))
        # when the default rules scan, then it is skipped
        assert _alerts(connection, r.INCOME_BELOW_STANDARD) == {}
        # when rules that do not skip scan, then it raises
        keep = replace(RULES, skip_dibao_households=False)
        scan(connection, regions=NAN_AN, as_of=D, now=NOW, rules=keep)
        assert connection.execute(sa.select(sa.func.count()).select_from(alert)).scalar_one() == 1


def test_a_scan_of_named_households_looks_at_no_other(engine: sa.Engine) -> None:
    with engine.begin() as connection:
        # given two households with a new severe certificate each
        household(connection)
        household(connection, OTHER)
        certificate(connection, HEAD, "C1", grade=1, issued=D)
        certificate(connection, OTHER_HEAD, "C2", grade=1, issued=D)
        # when only the first is scanned
        report = scan(connection, households=[HOUSEHOLD], as_of=D, now=NOW, rules=RULES)
        # then only it has an alert
        assert report.kinds[r.SEVERE_DISABILITY].raised == 1
        assert connection.execute(sa.select(alert.c.household_number)).scalars().all() == [HOUSEHOLD]
