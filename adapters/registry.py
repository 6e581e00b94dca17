"""Household registration (户籍): households and persons, the population every other record joins to."""

from __future__ import annotations

import sqlalchemy as sa

from adapters import columns as c
from adapters import fields, idnumber
from adapters import vocabulary as v
from adapters.base import Column, Department, FileSpec, Labels, labelled

RESIDENCE = {"1": v.ResidenceKind.RURAL, "2": v.ResidenceKind.URBAN}
GENDER = {"1": v.Gender.MALE, "2": v.Gender.FEMALE}
RELATION = {
    "01": v.Relation.HEAD,
    "02": v.Relation.SPOUSE,
    "03": v.Relation.CHILD,
    "04": v.Relation.PARENT,
    "05": v.Relation.GRANDCHILD,
    "06": v.Relation.SIBLING,
    "99": v.Relation.OTHER,
}


def _matches_id(row: dict[str, object]) -> str | None:
    """The birth date and gender written beside an id must agree with the id itself."""
    id_number = row["id_number"]
    assert isinstance(id_number, str)
    born = row.get("birth_date")
    if born is not None and born != idnumber.birth_date(id_number):
        return f"column csrq: {born} differs from the birth date in the id ({idnumber.birth_date(id_number)})"
    gender = row.get("gender")
    id_gender = v.Gender.MALE.name if int(id_number[16]) % 2 else v.Gender.FEMALE.name
    if gender is not None and gender != id_gender:
        return f"column xb: {str(gender).lower()} differs from the gender encoded in the id ({id_gender.lower()})"
    return None


HOUSEHOLDS = FileSpec(
    department="registry",
    name="households",
    table_name="registry_household",
    columns=(
        c.household_number(),
        Column("xzqh", "region_code", fields.digits(12, "division code"), sa.String(12), required=True),
        c.text("dz", "address", length=300),
        c.code("hjxz", "residence_kind", RESIDENCE, required=False),
    ),
    key=("household_number",),
    lookups=("household_number", "region_code"),
)

PERSONS = FileSpec(
    department="registry",
    name="persons",
    table_name="registry_person",
    columns=(
        c.id_number("sfzh"),
        c.text("xm", "name", length=100, required=True),
        c.code("xb", "gender", GENDER, required=False),
        c.date("csrq", "birth_date"),
        c.household_number(),
        c.code("yhzgx", "relation_to_head", RELATION, required=False),
        Column("lxdh", "phone", fields.phone, sa.String(20)),
    ),
    key=("id_number",),
    lookups=("id_number", "household_number"),
    checks=(_matches_id,),
)

# Person and Household are the population base: the other departments' fields on them add to these labels.
LABELS = Labels(
    records={
        "Person": labelled(
            public="source household",
            personal="idNumber name gender birthDate phone relationToHead householdNumber age",
        ),
        "Household": labelled(
            public="source countyCode members",
            personal="householdNumber regionCode address residenceKind",
            sensitive="incomeAssessment",
        ),
    },
    # A minor's age and birth date narrow down the birth date inside the id, so they are identity too.
    identifies={"Person": dict.fromkeys(("name", "phone", "birthDate", "age"), "id_number")},
)

DEPARTMENT = Department(name="registry", encoding="utf-8-sig", files=(HOUSEHOLDS, PERSONS), labels=LABELS)
