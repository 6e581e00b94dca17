"""Civil affairs (民政): dibao, extreme-poverty support, temporary assistance, child welfare, income checks."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

COVERAGE = {"1": v.DibaoCoverage.WHOLE_HOUSEHOLD, "2": v.DibaoCoverage.SINGLE_PERSON}
SELF_CARE = {"1": v.SelfCare.FULL, "2": v.SelfCare.PARTIAL_LOSS, "3": v.SelfCare.TOTAL_LOSS}
SUPPORT_MODE = {"1": v.SupportMode.INSTITUTIONAL, "2": v.SupportMode.DISPERSED}
ASSISTANCE_KIND = {"1": v.TemporaryAssistanceKind.EMERGENCY, "2": v.TemporaryAssistanceKind.EXPENDITURE}
CAUSE = {
    "1": v.Cause.ILLNESS,
    "2": v.Cause.DISABILITY,
    "3": v.Cause.SCHOOLING,
    "4": v.Cause.DISASTER,
    "5": v.Cause.ACCIDENT,
    "6": v.Cause.EPIDEMIC,
    "7": v.Cause.LACK_OF_LABOUR,
    "9": v.Cause.OTHER,
}
CHILD_CATEGORY = {
    "1": v.ChildWelfareCategory.ORPHAN_IN_INSTITUTION,
    "2": v.ChildWelfareCategory.ORPHAN_DISPERSED,
    "3": v.ChildWelfareCategory.DE_FACTO_UNSUPPORTED,
}
# Note the order: the dibao standard table writes 1 urban / 2 rural, the registry the reverse.
STANDARD_KIND = {"1": v.ResidenceKind.URBAN, "2": v.ResidenceKind.RURAL}


def _single_person_names_someone(row: dict[str, object]) -> str | None:
    if row["coverage"] == v.DibaoCoverage.SINGLE_PERSON.name and row["id_number"] is None:
        return "column sfzh: a single-person dibao (bzlx=2) must name the covered person"
    return None


DIBAO = FileSpec(
    department="civil_affairs",
    name="dibao",
    table_name="civil_affairs_dibao",
    columns=(
        c.household_number(),
        c.code("bzlx", "coverage", COVERAGE),
        c.id_number("sfzh", required=False),
        c.integer("bzrs", "persons_covered"),
        c.yuan("yje", "monthly_amount"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
        c.date("jtqjz", "gradual_exit_until"),
    ),
    key=("household_number", "coverage", "id_number", "start_date"),
    lookups=("household_number", "id_number"),
    checks=(_single_person_names_someone, c.starts_before_end),
)

EXTREME_POVERTY = FileSpec(
    department="civil_affairs",
    name="tekun",
    table_name="civil_affairs_extreme_poverty",
    columns=(
        c.id_number("sfzh"),
        c.code("zlnl", "self_care", SELF_CARE, required=False),
        c.code("gyfs", "support_mode", SUPPORT_MODE, required=False),
        c.yuan("yje", "monthly_amount"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
    ),
    key=("id_number", "start_date"),
    lookups=("id_number",),
    checks=(c.starts_before_end,),
)

TEMPORARY_ASSISTANCE = FileSpec(
    department="civil_affairs",
    name="lsjz",
    table_name="civil_affairs_temporary_assistance",
    columns=(
        c.text("jzbh", "case_number", length=64, required=True),
        c.id_number("sfzh"),
        c.household_number(required=False),
        c.code("jzlx", "kind", ASSISTANCE_KIND, required=False),
        c.code("jzyy", "cause", CAUSE, required=False),
        c.yuan("je", "amount"),
        c.date("sqrq", "applied_on", required=True),
        c.date("ffrq", "paid_on"),
    ),
    key=("case_number",),
    lookups=("id_number", "household_number"),
)

CHILD_WELFARE = FileSpec(
    department="civil_affairs",
    name="ertong",
    table_name="civil_affairs_child_welfare",
    columns=(
        c.id_number("sfzh"),
        c.code("lb", "category", CHILD_CATEGORY),
        c.yuan("yje", "monthly_amount"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
    ),
    key=("id_number", "start_date"),
    lookups=("id_number",),
    checks=(c.starts_before_end,),
)

ECONOMIC_CHECK = FileSpec(
    department="civil_affairs",
    name="hdxx",
    table_name="civil_affairs_economic_check",
    columns=(
        c.household_number(),
        c.date("hdrq", "checked_on", required=True),
        Column("rs", "persons", fields.bounded(1, 99, "persons"), sa.Integer(), required=True),
        c.yuan("nsr", "annual_income", required=True),
        c.yuan("ylzc", "medical_expense"),
        c.yuan("jyzc", "education_expense"),
        c.yuan("jycb", "employment_cost"),
        c.yuan("jcylj", "basic_pension"),
    ),
    key=("household_number", "checked_on"),
    lookups=("household_number",),
)

DIBAO_STANDARD = FileSpec(
    department="civil_affairs",
    name="bzbz",
    table_name="civil_affairs_dibao_standard",
    columns=(
        Column("xzqh", "county_code", fields.digits(6, "county code"), sa.String(6), required=True),
        Column("nd", "year", fields.year, sa.Integer(), required=True),
        c.code("cxlb", "residence_kind", STANDARD_KIND),
        c.yuan("bz", "monthly_standard", required=True),
    ),
    key=("county_code", "year", "residence_kind"),
    lookups=("county_code",),
)

LABELS = Labels(
    part_types={"Person": "PersonCivilAffairs", "Household": "HouseholdCivilAffairs"},
    part_label="sensitive",
    records={
        "DibaoRecord": labelled(
            public="source",
            personal="householdNumber idNumber",
            sensitive="coverage personsCovered monthlyAmount startDate endDate gradualExitUntil",
        ),
        "ExtremePovertyRecord": labelled(
            public="source", personal="idNumber", sensitive="selfCare supportMode monthlyAmount startDate endDate"
        ),
        "TemporaryAssistanceRecord": labelled(
            public="source",
            personal="caseNumber idNumber householdNumber",
            sensitive="kind cause amount appliedOn paidOn",
        ),
        "ChildWelfareRecord": labelled(
            public="source", personal="idNumber", sensitive="category monthlyAmount startDate endDate"
        ),
        "EconomicCheckRecord": labelled(
            public="source",
            personal="householdNumber",
            sensitive="checkedOn persons annualIncome medicalExpense educationExpense employmentCost basicPension",
        ),
        # The income assessment (Household.incomeAssessment): every part of its working is income.
        "IncomeAssessment": labelled(
            public="source",
            sensitive="checkedOn annualIncome basicPension countedIncome medicalExpense educationExpense"
            " employmentCost employmentCap employmentDeduction employmentCapApplied deductions persons"
            " perCapitaMonthlyIncome standardCountyCode standardYear standardResidenceKind monthlyStandard"
            " belowStandard belowTwiceStandard",
        ),
    },
)

DEPARTMENT = Department(
    name="civil_affairs",
    encoding="utf-8-sig",
    files=(DIBAO, EXTREME_POVERTY, TEMPORARY_ASSISTANCE, CHILD_WELFARE, ECONOMIC_CHECK, DIBAO_STANDARD),
    labels=LABELS,
)
