"""The sensitivity of every field of the schema (DESIGN §3): the table policies are written against.

`public`: structure and aggregates; `personal`: identifies or describes a resident; `sensitive`:
health, disability, income, assistance and other finance; `special`: HIV diagnoses and the identity
of minors under 14 (seed 003) — no field is special by itself, a value becomes special (see SPECIAL).

Each department labels its own types beside its files (`Department.labels`, adapters/): its record
types, and its field on Person / Household. This module adds the hub's own types and derives the
tables below from the catalog, again whenever the catalog changes, so a department registered after
import (a test's) is in them, and adding one never edits this file.

Record types listed in GOVERNED are made by `schema.records.build`, where the policy is applied once
per object. Every other type only holds structure: all its fields must be public (a test checks both,
and that no field of the schema is missing here).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Final, Literal

from adapters.base import Department, Label, labelled
from adapters.catalog import DEPARTMENTS

LABELS_ORDER: Final[tuple[Label, ...]] = ("public", "personal", "sensitive", "special")

_HUB_TYPES: Final[Mapping[str, Mapping[str, Label]]] = {
    "Source": labelled(public="department table asOf", personal="recordKey"),
    "EligibleStudent": labelled(
        public="student", personal="stage schoolName schoolCode grade", sensitive="reasons aidGranted"
    ),
    "EligibilityReason": labelled(public="asOf", personal="sourceRecord", sensitive="code department table"),
    # Who read a resident's data is itself about that resident.
    "AccessLogEntry": labelled(personal="at clientId roles purpose caseId operation outcome revealed masked withheld"),
    # Casework: being on a ledger says something of a household; its links lead to governed types.
    "ComparisonItem": labelled(
        public="id rule programme status version household person",
        personal="assignee",
        sensitive="evidence reasonCode note coveredBy coveredOn history",
    ),
    "Alert": labelled(
        public="id kind status level emergency raisedAt dueAt overdue version household",
        sensitive="evidence reasonCode note history",
    ),
    # A finding's record: its values are shown under the fields they come from (auth/evidence.py).
    "Evidence": labelled(public="department table", personal="recordKey", sensitive="values"),
    "CaseworkChange": labelled(personal="at actor", sensitive="from to reasonCode note"),
}
"""The governed types that belong to no department: where a record came from, student aid, the audit trail."""

_HUB_STRUCTURE: Final = frozenset(
    {
        "Query",
        "HouseholdConnection",
        "HouseholdEdge",
        "PageInfo",
        "KeyTargetRow",
        "AccessLogEdge",
        "EligibleStudentEdge",
        "EligibleStudentConnection",
        "AccessLogConnection",
        "Mutation",
        "ComparisonRun",
        "ComparisonRunEdge",
        "ComparisonRunConnection",
        "ComparisonItemEdge",
        "ComparisonItemConnection",
        "AlertEdge",
        "AlertConnection",
    }
)

NATURAL_MASKS: Final[Mapping[str, str]] = {
    "idNumber": "id",
    "headIdNumber": "id",
    "name": "name",
    "phone": "phone",
    "address": "address",
    "birthDate": "birth-year",
    "diagnosisCode": "diagnosis-chapter",
}
"""The mask a field gets when a rule says `mask` for its label (fields without one are withheld)."""

# What makes a value special (`resolvers.rules.special`): a test of one stored column of the row. Minors
# are judged by the birth date inside the subject's id (every stored id is the canonical 18-digit form),
# as of the request's day.
SpecialKind = Literal["minor", "hiv"]
SpecialTest = tuple[SpecialKind, str]
_HUB_IDENTIFIES: Final[Mapping[str, Mapping[str, str]]] = {
    # A record key can carry the id itself (a certificate is the id + 2 digits).
    "Source": {"recordKey": "id_number"},
    "EligibilityReason": {"sourceRecord": "id_number"},
    "Evidence": {"recordKey": "id_number"},
}
"""As a department's `Labels.identifies`, for the hub's own types: field -> the column with the resident's id."""
_HELD_BY_MASK: Final[Mapping[str, SpecialKind]] = {"id": "minor", "diagnosis-chapter": "hiv"}
"""What a field masked this way holds, and so can hold special: a resident id (a minor's), a diagnosis (HIV)."""

UNIFORM_SPECIAL: Final[frozenset[SpecialKind]] = frozenset({"hiv"})
"""Kinds whose fields get the same action for every value. An HIV diagnosis is the secret itself, so a code
masked or withheld where other codes are shown would tell; a minor's identity is the secret, not being a minor
(the age is personal data), so those values are judged one by one."""


@dataclass(frozen=True)
class _Tables:
    governed: dict[str, dict[str, Label]]
    special: dict[str, dict[str, SpecialTest]]
    structure: frozenset[str]


def _column(field_name: str) -> str:
    # A record type's fields are its stored columns in camelCase (schema.records.build copies them by name).
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in field_name)


def _derive(departments: Sequence[Department]) -> _Tables:
    governed: dict[str, dict[str, Label]] = {}
    for owner, records in [*((d.name, d.labels.records) for d in departments), ("the hub", _HUB_TYPES)]:
        for type_name, fields in records.items():
            if type_name in governed:
                raise ValueError(f"{owner} labels {type_name}, which is labelled already")
            governed[type_name] = dict(fields)
    structure = set(_HUB_STRUCTURE)
    for department in departments:  # once every type is in: a department's field goes on the registry's holders
        for holder, part_type in department.labels.part_types.items():
            assert department.labels.part_label is not None  # Labels checks that a part has its label
            governed[holder][department.field_name] = department.labels.part_label
            structure.add(part_type)
    identifies = [*(department.labels.identifies for department in departments), _HUB_IDENTIFIES]
    return _Tables(governed, _special(governed, identifies), frozenset(structure))


def _special(
    governed: Mapping[str, Mapping[str, Label]], identifies: Sequence[Mapping[str, Mapping[str, str]]]
) -> dict[str, dict[str, SpecialTest]]:
    """Every field masked as an id or a diagnosis, and every field declared to identify a resident."""
    declared: dict[str, dict[str, str]] = {}
    for tables in identifies:
        for type_name, columns in tables.items():
            declared.setdefault(type_name, {}).update(columns)
    special: dict[str, dict[str, SpecialTest]] = {}
    # The types with declared identities first: a policy refused for showing special values in full names
    # the first such field it shows, and these are the plainest (Person.idNumber before a diagnosis).
    for type_name in [*declared, *(name for name in governed if name not in declared)]:
        for field_name in governed[type_name]:
            column = declared.get(type_name, {}).get(field_name)
            kind = "minor" if column is not None else _HELD_BY_MASK.get(NATURAL_MASKS.get(field_name, ""))
            if kind is not None:
                special.setdefault(type_name, {})[field_name] = (kind, column or _column(field_name))
    return special


_governed: dict[str, dict[str, Label]] = {}
_special_values: dict[str, dict[str, SpecialTest]] = {}
_structure: set[str] = set()


def _follow_catalog() -> None:
    """Derive the tables again, in place, so that every module holding them reads the catalog as it is."""
    tables = _derive(list(DEPARTMENTS.values()))
    _governed.clear()
    _governed.update(tables.governed)
    _special_values.clear()
    _special_values.update(tables.special)
    _structure.clear()
    _structure.update(tables.structure)


GOVERNED: Final[Mapping[str, dict[str, Label]]] = _governed
"""Type -> field -> label, for every type the policy is applied to: the hub's and each department's."""

SPECIAL: Final[Mapping[str, Mapping[str, SpecialTest]]] = _special_values
"""The fields that can hold special values, and the test that finds them: `Type -> field -> (kind, column)`.
Every field masked as an id or a diagnosis, and those a department says identify a resident."""

STRUCTURE_TYPES: Final[AbstractSet[str]] = _structure
"""Types whose fields are structure or aggregates only: public, never governed by a rule (the departments'
part types among them)."""

DEPARTMENTS.follow(_follow_catalog)
