"""Household.incomeAssessment through the secured hub: the rule's working, the cap, the verdicts, the policy.

Every test runs on SQLite and PostgreSQL, on the tiny world and the demo policy; a test that needs other
figures re-ingests civil affairs' checks (a full snapshot) for the small household.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters import civil_affairs
from adapters.ingest import ingest_folder
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit.rows import select_stored_rows
from auth.policy import compile_view
from auth.tables import audit_event
from resolvers.rules import income
from tests.access import DEMO_POLICY, post, register, role_purposes, token, world_store
from tests.conftest import BACKENDS
from tests.world import LARGE, SMALL

WORKING = """
  checkedOn annualIncome basicPension countedIncome medicalExpense educationExpense
  employmentCost employmentCap employmentDeduction employmentCapApplied deductions persons
  perCapitaMonthlyIncome standardCountyCode standardYear standardResidenceKind monthlyStandard
  belowStandard belowTwiceStandard source { table recordKey }
"""
ASSESSMENT = f"""query Assessment($n: String!) {{
  household(householdNumber: $n) {{ householdNumber incomeAssessment {{ {WORKING} }} }}
}}"""
VERDICTS = """query Verdicts($n: String!) {
  household(householdNumber: $n) {
    incomeAssessment {
      employmentCapApplied employmentDeduction perCapitaMonthlyIncome belowStandard belowTwiceStandard
    }
  }
}"""

CHECKS_HEADER = "hh,hdrq,rs,nsr,ylzc,jyzc,jycb,jcylj"
LARGE_CHECK = f"{LARGE},2026-06-01,8,96000,2000,4000,9000,0"  # as the tiny world has it
RURAL_STANDARD = Decimal("850.00")  # the small household is rural; its county's 2026 rural standard


class Hub:
    def __init__(self, http: TestClient, engine: sa.Engine, world: Path) -> None:
        self.http = http
        self.engine = engine
        self.world = world
        self._tokens: dict[str, str] = {}

    def as_role(self, role: str, purpose: str) -> str:
        client_id = f"{role}-{purpose}"
        if client_id not in self._tokens:
            secret = register(self.engine, client_id, roles=[role], purposes=[purpose])
            self._tokens[client_id] = token(self.http, client_id, secret)
        return self._tokens[client_id]

    def ask(
        self, document: str, household: str, role: str = "civil-affairs", purpose: str = "assistance-review"
    ) -> Any:
        return post(self.http, document, self.as_role(role, purpose), purpose=purpose, n=household)

    def checks(self, *rows: str) -> None:
        """Civil affairs' checks are now these rows (a full export: the others are closed)."""
        folder = self.world / "civil_affairs"
        (folder / "hdxx.csv").write_text("\n".join([CHECKS_HEADER, *rows]) + "\n", encoding="utf-8")
        ingest_folder(self.engine, civil_affairs.DEPARTMENT, folder)

    def last_event(self) -> dict[str, Any]:
        with self.engine.connect() as connection:
            row = connection.execute(select_stored_rows().order_by(audit_event.c.seq.desc()).limit(1)).mappings()
            return dict(row.one())


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    folder = tmp_path_factory.mktemp("income")
    with world_store(request, folder) as (url, engine):
        world = folder / "own-world"
        shutil.copytree(folder / "world", world)
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine, world)


def _small_check(**amounts: str) -> str:
    """A check of the small household (2 persons) dated 2026-05-20; amounts default to 0."""
    values = {"nsr": "0", "ylzc": "0", "jyzc": "0", "jycb": "0", "jcylj": "0", **amounts}
    return f"{SMALL},2026-05-20,2,{values['nsr']},{values['ylzc']},{values['jyzc']},{values['jycb']},{values['jcylj']}"


def _rule_figures(check: dict[str, Decimal | int | None], standard: Decimal) -> dict[str, Any]:
    working = income.assess(check, standard=standard)
    return {
        "countedIncome": str(working.counted_income),
        "employmentCap": str(working.employment_cap),
        "employmentDeduction": str(working.employment_deduction),
        "employmentCapApplied": working.cap_applied,
        "deductions": str(working.deductions),
        "perCapitaMonthlyIncome": str(working.per_capita_monthly),
        "monthlyStandard": str(working.standard),
        "belowStandard": working.below_standard,
        "belowTwiceStandard": working.below_twice_standard,
    }


def test_the_working_of_a_tiny_world_household_is_the_rules_own(hub: Hub) -> None:
    # given the large household's check as the tiny world has it: urban, 8 persons, 9,000 employment cost
    hub.checks(_small_check(nsr="12000", ylzc="6000", jcylj="2400"), LARGE_CHECK)
    # when civil affairs reviewing assistance asks for its assessment
    body = hub.ask(ASSESSMENT, LARGE)
    # then each part of the working is the rule's own figure, and the urban 2026 standard of its county
    assessment = body["data"]["household"]["incomeAssessment"]
    check = {
        "annual_income": Decimal(96000),
        "basic_pension": Decimal(0),
        "medical_expense": Decimal(2000),
        "education_expense": Decimal(4000),
        "employment_cost": Decimal(9000),
        "persons": 8,
    }
    expected = _rule_figures(check, Decimal("930.00"))
    assert {name: assessment[name] for name in expected} == expected
    assert assessment["perCapitaMonthlyIncome"] == "843.75"  # (96,000 - 2,000 - 4,000 - 9,000) / 8 / 12
    assert (assessment["checkedOn"], assessment["persons"], assessment["annualIncome"]) == ("2026-06-01", 8, "96000.00")
    assert (assessment["standardCountyCode"], assessment["standardYear"], assessment["standardResidenceKind"]) == (
        "350583",
        2026,
        "URBAN",
    )
    assert assessment["source"] == {"table": "hdxx", "recordKey": f"{LARGE}|2026-06-01"}
    assert "withheld" not in body.get("extensions", {})


def test_the_basic_pension_is_excluded_and_the_employment_cost_is_capped_at_30_percent(hub: Hub) -> None:
    # given a check of 20,000 income, 2,000 of it basic pension, and 9,000 employment cost (30 % is 5,400)
    hub.checks(_small_check(nsr="20000", jycb="9000", jcylj="2000"), LARGE_CHECK)
    # when its assessment is asked for
    assessment = hub.ask(ASSESSMENT, SMALL)["data"]["household"]["incomeAssessment"]
    # then the pension is not counted, the cap is deducted instead of the cost, and the per-capita follows
    assert (assessment["annualIncome"], assessment["basicPension"], assessment["countedIncome"]) == (
        "20000.00",
        "2000.00",
        "18000.00",
    )
    assert (assessment["employmentCost"], assessment["employmentCap"], assessment["employmentDeduction"]) == (
        "9000.00",
        "5400.00",
        "5400.00",
    )
    assert assessment["employmentCapApplied"] is True
    assert assessment["deductions"] == "5400.00"
    assert assessment["perCapitaMonthlyIncome"] == "525.00"  # (18,000 - 5,400) / 2 / 12


def test_an_employment_cost_under_the_cap_is_deducted_as_stated(hub: Hub) -> None:
    # given 9,000 employment cost on 40,000 counted income (30 % is 12,000)
    hub.checks(_small_check(nsr="40000", jycb="9000"), LARGE_CHECK)
    # when its assessment is asked for
    assessment = hub.ask(VERDICTS, SMALL)["data"]["household"]["incomeAssessment"]
    # then the stated cost is deducted
    assert (assessment["employmentCapApplied"], assessment["employmentDeduction"]) == (False, "9000.00")


@pytest.mark.parametrize(
    ("annual_income", "below_standard", "below_twice_standard"),
    [
        pytest.param(24 * RURAL_STANDARD - Decimal("0.01"), True, True, id="just-below-the-standard"),
        pytest.param(24 * RURAL_STANDARD, False, True, id="at-the-standard"),
        pytest.param(24 * RURAL_STANDARD + Decimal("0.01"), False, True, id="just-above-the-standard"),
        pytest.param(48 * RURAL_STANDARD - Decimal("0.01"), False, True, id="just-below-twice"),
        pytest.param(48 * RURAL_STANDARD, False, False, id="at-twice"),
        pytest.param(48 * RURAL_STANDARD + Decimal("0.01"), False, False, id="just-above-twice"),
    ],
)
def test_the_verdicts_at_and_either_side_of_the_standard_and_twice_it(
    hub: Hub, annual_income: Decimal, below_standard: bool, below_twice_standard: bool
) -> None:
    # given a 2-person rural household whose income is 24 (or 48) months of the standard, a fen either side
    hub.checks(_small_check(nsr=str(annual_income)), LARGE_CHECK)
    # when its assessment is asked for
    assessment = hub.ask(VERDICTS, SMALL)["data"]["household"]["incomeAssessment"]
    # then "below" is strict, and a fen a year is enough to fall either side
    assert (assessment["belowStandard"], assessment["belowTwiceStandard"]) == (below_standard, below_twice_standard)


def test_a_household_without_a_check_answers_null(hub: Hub) -> None:
    # given civil affairs' checks hold none of the small household
    hub.checks(LARGE_CHECK)
    # when its assessment is asked for
    body = hub.ask(ASSESSMENT, SMALL)
    # then the field is null, and nothing is withheld
    assert body["data"]["household"] == {"householdNumber": SMALL, "incomeAssessment": None}
    assert "errors" not in body and "withheld" not in body.get("extensions", {})


def test_a_role_without_sensitive_gets_the_assessment_withheld(hub: Hub) -> None:
    # given the tiny world's checks, and student aid, whose policy grants no income (never sensitive)
    hub.checks(_small_check(nsr="12000", ylzc="6000", jcylj="2400"), LARGE_CHECK)
    # when student aid asks for the assessment
    body = hub.ask(ASSESSMENT, LARGE, role="student-aid", purpose="student-aid")
    # then the household is shown, its assessment withheld, and the path listed
    assert body["data"]["household"] == {"householdNumber": LARGE, "incomeAssessment": None}
    assert body["extensions"]["withheld"] == [
        {"path": "household.incomeAssessment", "field": "Household.incomeAssessment", "reason": "policy"}
    ]
    # and the trail names no part of the working as revealed
    event = hub.last_event()
    assert not [field for field in event["revealed"] if field.startswith(("IncomeAssessment.", "Household.income"))]
    assert "Household.incomeAssessment" in event["withheld"]


def test_the_audit_event_names_the_parts_of_the_working_revealed(hub: Hub) -> None:
    # given the tiny world's checks
    hub.checks(_small_check(nsr="12000", ylzc="6000", jcylj="2400"), LARGE_CHECK)
    # when civil affairs asks for the verdicts only
    hub.ask(VERDICTS, LARGE)
    # then its event names those fields of the assessment, and the household field leading to them
    event = hub.last_event()
    assert event["outcome"] == "ok"
    assert event["revealed"] == [
        "Household.incomeAssessment",
        "IncomeAssessment.belowStandard",
        "IncomeAssessment.belowTwiceStandard",
        "IncomeAssessment.employmentCapApplied",
        "IncomeAssessment.employmentDeduction",
        "IncomeAssessment.perCapitaMonthlyIncome",
    ]


def test_the_demo_policy_shows_the_assessment_exactly_where_it_shows_the_checks_themselves() -> None:
    # given every role and purpose of the demo policy
    for role, purpose in role_purposes():
        # when its view is compiled
        view = compile_view(DEMO_POLICY, frozenset([role]), purpose)
        # then the assessment and its working follow the checks' incomes: civil affairs and the poverty office
        checks = view.types["EconomicCheckRecord"].outcome["annualIncome"]
        assert view.types["Household"].outcome["incomeAssessment"] == checks, (role, purpose)
        assert set(view.types["IncomeAssessment"].outcome.values()) - {"revealed"} <= {checks}, (role, purpose)
    seeing = {role for role, purpose in role_purposes() if "incomeAssessment" not in _withheld(role, purpose)}
    assert seeing == {"civil-affairs", "poverty"}


def _withheld(role: str, purpose: str) -> set[str]:
    outcome = compile_view(DEMO_POLICY, frozenset([role]), purpose).types["Household"].outcome
    return {name for name, found in outcome.items() if found == "withheld"}
