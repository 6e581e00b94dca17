"""Medical insurance (医保): enrolment with contribution subsidies, and settlements (YYYYMMDD, fen)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

SCHEME = {"1": v.InsuranceScheme.RESIDENT, "2": v.InsuranceScheme.EMPLOYEE}
SUBSIDY = {
    "0": v.ContributionSubsidy.NONE,
    "1": v.ContributionSubsidy.EXTREME_POVERTY_FULL,
    "2": v.ContributionSubsidy.DIBAO,
    "3": v.ContributionSubsidy.MONITORED_HOUSEHOLD,
    "9": v.ContributionSubsidy.OTHER,
}
SETTLEMENT_KIND = {
    "1": v.SettlementKind.OUTPATIENT,
    "2": v.SettlementKind.INPATIENT,
    "3": v.SettlementKind.CHRONIC_OUTPATIENT,
}


def _discharged_after_admission(row: dict[str, object]) -> str | None:
    start, end = row.get("from_date"), row.get("to_date")
    if start is not None and end is not None and end < start:  # type: ignore[operator]
        return f"column cyrq: {end} is before the admission date {start}"
    return None


INSURANCE = FileSpec(
    department="medical",
    name="cbxx",
    table_name="medical_insurance",
    columns=(
        c.id_number("sfzh"),
        Column("nd", "year", fields.year, sa.Integer(), required=True),
        c.code("xzlx", "scheme", SCHEME, required=False),
        c.fen("grjf", "personal_contribution"),
        c.fen("zzje", "subsidised_amount"),
        c.code("zzlb", "subsidy_category", SUBSIDY, required=False),
    ),
    key=("id_number", "year"),
    lookups=("id_number",),
)

SETTLEMENT = FileSpec(
    department="medical",
    name="jsxx",
    table_name="medical_settlement",
    columns=(
        c.text("jsid", "settlement_id", length=64, required=True),
        c.id_number("sfzh"),
        c.code("lx", "kind", SETTLEMENT_KIND),
        c.date("ryrq", "from_date", required=True, compact=True),
        c.date("cyrq", "to_date", compact=True),
        c.fen("zfy", "total_cost"),
        c.fen("jbyl", "basic_insurance_paid"),
        c.fen("dbbx", "critical_illness_paid"),
        c.fen("yljz", "medical_assistance_paid"),
        c.fen("grzf", "out_of_pocket"),
        Column("zddm", "diagnosis_code", fields.icd10, sa.String(12)),
    ),
    key=("settlement_id",),
    lookups=("id_number",),
    checks=(_discharged_after_admission,),
)

LABELS = Labels(
    part_types={"Person": "PersonMedical"},
    part_label="sensitive",
    records={
        "InsuranceRecord": labelled(
            public="source",
            personal="idNumber year scheme",
            sensitive="personalContribution subsidisedAmount subsidyCategory",
        ),
        "SettlementRecord": labelled(
            public="source",
            personal="settlementId idNumber",
            sensitive=(
                "kind fromDate toDate totalCost basicInsurancePaid criticalIllnessPaid medicalAssistancePaid"
                " outOfPocket diagnosisCode"
            ),
        ),
    },
)

DEPARTMENT = Department(name="medical", encoding="utf-8-sig", files=(INSURANCE, SETTLEMENT), labels=LABELS)
