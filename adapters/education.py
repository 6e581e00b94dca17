"""Education (教育): enrolment (学籍) and student aid granted (学生资助)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

STAGE = {
    "1": v.Stage.PRESCHOOL,
    "2": v.Stage.PRIMARY,
    "3": v.Stage.JUNIOR_SECONDARY,
    "4": v.Stage.SENIOR_SECONDARY,
    "5": v.Stage.SECONDARY_VOCATIONAL,
    "6": v.Stage.HIGHER_VOCATIONAL,
    "7": v.Stage.UNDERGRADUATE,
    "8": v.Stage.POSTGRADUATE,
}
STATUS = {
    "1": v.EnrolmentStatus.ENROLLED,
    "2": v.EnrolmentStatus.SUSPENDED,
    "3": v.EnrolmentStatus.GRADUATED,
    "4": v.EnrolmentStatus.WITHDRAWN,
}
PROGRAMME = {
    "01": v.AidProgramme.NATIONAL_GRANT,
    "02": v.AidProgramme.TUITION_WAIVER,
    "03": v.AidProgramme.LIVING_SUBSIDY,
    "04": v.AidProgramme.STUDENT_LOAN,
    "05": v.AidProgramme.WELFARE_LOTTERY_GRANT,
}


def _term(native: str) -> Column:
    return Column(native, "term", fields.term, sa.String(11), required=True)


ENROLMENT = FileSpec(
    department="education",
    name="xsxj",
    table_name="education_enrolment",
    columns=(
        c.id_number("sfzh"),
        c.text("xxdm", "school_code", length=20, required=True),
        c.text("xxmc", "school_name"),
        c.code("xd", "stage", STAGE),
        Column("nj", "grade", fields.bounded(0, 12, "grade"), sa.Integer()),
        _term("xq"),
        c.code("zt", "status", STATUS),
    ),
    key=("id_number", "term", "school_code"),
    lookups=("id_number", "term"),
)

STUDENT_AID = FileSpec(
    department="education",
    name="xszz",
    table_name="education_student_aid",
    columns=(
        c.id_number("sfzh"),
        _term("xq"),
        c.code("zzxm", "programme", PROGRAMME),
        c.yuan("je", "amount"),
        c.date("ffrq", "paid_on"),
    ),
    key=("id_number", "term", "programme"),
    lookups=("id_number",),
)

LABELS = Labels(
    part_types={"Person": "PersonEducation"},
    part_label="personal",
    records={
        "EnrolmentRecord": labelled(public="source", personal="idNumber schoolCode schoolName stage grade term status"),
        "StudentAidRecord": labelled(public="source", personal="idNumber term", sensitive="programme amount paidOn"),
    },
)

DEPARTMENT = Department(name="education", encoding="utf-8-sig", files=(ENROLMENT, STUDENT_AID), labels=LABELS)
