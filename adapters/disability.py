"""Disability federation (残联): certificates and the two subsidies (两项补贴)."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields, idnumber
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

CATEGORY = {
    "1": v.DisabilityCategory.VISUAL,
    "2": v.DisabilityCategory.HEARING,
    "3": v.DisabilityCategory.SPEECH,
    "4": v.DisabilityCategory.PHYSICAL,
    "5": v.DisabilityCategory.INTELLECTUAL,
    "6": v.DisabilityCategory.MENTAL,
    "7": v.DisabilityCategory.MULTIPLE,
}
_CATEGORY_DIGIT = {member.name: digit for digit, member in CATEGORY.items()}
SUBSIDY_KIND = {"1": v.DisabilitySubsidyKind.LIVING, "2": v.DisabilitySubsidyKind.NURSING}


def _certificate_number(value: str) -> str:
    if len(value) != 20 or not value[18:].isdigit():
        raise ValueError(f"{value!r} is not a certificate number (18-char id + category digit + grade digit)")
    return value.upper()


def _certificate_matches_holder(row: dict[str, object]) -> str | None:
    """The certificate number repeats the holder's id, category and grade: they must agree."""
    number = row["certificate_number"]
    assert isinstance(number, str)
    try:
        holder = idnumber.normalize(number[:18])
    except idnumber.InvalidIdNumber:
        holder = None
    if holder != row["id_number"]:
        return f"column cjzh: {number} does not start with the holder's id {row['id_number']}"
    expected = f"{_CATEGORY_DIGIT[str(row['category'])]}{row['grade']}"
    if number[18:] != expected:
        return f"column cjzh: {number} ends in {number[18:]}, but category and grade give {expected}"
    return None


CERTIFICATE = FileSpec(
    department="disability",
    name="cjr",
    table_name="disability_certificate",
    columns=(
        c.id_number("sfzh"),
        Column("cjzh", "certificate_number", _certificate_number, sa.String(20), required=True),
        c.code("cjlb", "category", CATEGORY),
        Column("cjdj", "grade", fields.bounded(1, 4, "grade"), sa.Integer(), required=True),
        c.date("fzrq", "issued_on"),
        c.date("yxq", "valid_until"),
    ),
    key=("certificate_number",),
    lookups=("id_number",),
    checks=(_certificate_matches_holder,),
)

SUBSIDY = FileSpec(
    department="disability",
    name="lxbt",
    table_name="disability_subsidy",
    columns=(
        c.id_number("sfzh"),
        c.code("btlx", "kind", SUBSIDY_KIND),
        c.yuan("yje", "monthly_amount"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
    ),
    key=("id_number", "kind", "start_date"),
    lookups=("id_number",),
    checks=(c.starts_before_end,),
)

LABELS = Labels(
    part_types={"Person": "PersonDisability"},
    part_label="sensitive",
    records={
        "DisabilityCertificate": labelled(
            public="source", personal="idNumber", sensitive="certificateNumber category grade issuedOn validUntil"
        ),
        "DisabilitySubsidyRecord": labelled(
            public="source", personal="idNumber", sensitive="kind monthlyAmount startDate endDate"
        ),
    },
    # A certificate number is the holder's id and two digits.
    identifies={"DisabilityCertificate": {"certificateNumber": "id_number"}},
)

DEPARTMENT = Department(name="disability", encoding="utf-8-sig", files=(CERTIFICATE, SUBSIDY), labels=LABELS)
