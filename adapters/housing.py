"""Housing (住建): dangerous-house assessments, renovations and housing support; exports are GBK."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

GRADE = {"A": v.HouseGrade.A, "B": v.HouseGrade.B, "C": v.HouseGrade.C, "D": v.HouseGrade.D}
RENOVATION_KIND = {"1": v.RenovationKind.NEW_BUILD, "2": v.RenovationKind.REBUILD, "3": v.RenovationKind.REPAIR}
RENOVATION_STATUS = {
    "1": v.RenovationStatus.APPROVED,
    "2": v.RenovationStatus.IN_PROGRESS,
    "3": v.RenovationStatus.COMPLETED,
}
SUPPORT_KIND = {"1": v.HousingSupportKind.PUBLIC_RENTAL, "2": v.HousingSupportKind.RENT_SUBSIDY}

ASSESSMENT = FileSpec(
    department="housing",
    name="wfjd",
    table_name="housing_assessment",
    columns=(
        c.text("jdbh", "assessment_number", length=64, required=True),
        c.id_number("sfzh"),
        c.household_number(required=False),
        c.date("jdrq", "assessed_on", required=True),
        c.code("dj", "grade", GRADE),
        c.text("jddw", "assessed_by"),
    ),
    key=("assessment_number",),
    lookups=("id_number", "household_number"),
)

RENOVATION = FileSpec(
    department="housing",
    name="wfgz",
    table_name="housing_renovation",
    columns=(
        c.text("xmbh", "project_number", length=64, required=True),
        c.id_number("sfzh"),
        c.household_number(required=False),
        c.code("gzlx", "kind", RENOVATION_KIND, required=False),
        Column("mj", "area", fields.decimal, sa.Numeric(10, 2)),
        c.yuan("bzje", "subsidy"),
        c.code("zt", "status", RENOVATION_STATUS, required=False),
        c.date("lxrq", "approved_on"),
        c.text("bz", "remarks", length=500),
    ),
    key=("project_number",),
    lookups=("id_number", "household_number"),
)

SUPPORT = FileSpec(
    department="housing",
    name="zfbz",
    table_name="housing_support",
    columns=(
        c.id_number("sfzh"),
        c.household_number(required=False),
        c.code("lx", "kind", SUPPORT_KIND),
        c.yuan("yje", "monthly_amount"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
    ),
    key=("id_number", "household_number", "kind", "start_date"),
    lookups=("id_number", "household_number"),
    checks=(c.starts_before_end,),
)

LABELS = Labels(
    part_types={"Person": "Housing", "Household": "Housing"},
    part_label="personal",
    records={
        "HouseAssessmentRecord": labelled(
            public="source", personal="assessmentNumber idNumber householdNumber assessedOn grade assessedBy"
        ),
        "RenovationRecord": labelled(
            public="source",
            personal="projectNumber idNumber householdNumber kind area status approvedOn remarks",
            sensitive="subsidy",
        ),
        "HousingSupportRecord": labelled(
            public="source", personal="idNumber householdNumber kind startDate endDate", sensitive="monthlyAmount"
        ),
    },
)

DEPARTMENT = Department(name="housing", encoding="gbk", files=(ASSESSMENT, RENOVATION, SUPPORT), labels=LABELS)
