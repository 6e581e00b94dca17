"""The export's rows, with the policy picked once per export (`Access.applier`), are those of the policy applied
object by object (`Access.apply`), for every demo access profile that may export, on SQLite and PostgreSQL.

The reference below is the export as it was made before: the names read per page, and `Access.apply` on each
person, reason and student. Both leave the access alike too (subjects, types seen, per-value exceptions),
which is what every page's audit event is made from.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa

from adapters import registry
from auth.access import Access, access_for
from auth.policy import CompiledPolicy, load_policy
from auth.principal import Principal
from resolvers.students import eligibility as students
from resolvers.students.export import export_row, export_rows
from tests.access import DEMO_POLICY, DEMO_POLICY_TEXT

TERM = "2026-2027-1"
# A profile the demo lacks, so that masks are exercised too: names to the surname, ids as pseudonyms.
MASKING_POLICY = (
    DEMO_POLICY_TEXT
    + """
exporter:
  student-aid:
    public: allow
    personal: mask
    Person.idNumber: mask:pseudonym
    special: mask
    EligibleStudent.reasons: allow
    EligibilityReason.code: allow
"""
)
POLICY = CompiledPolicy(load_policy(MASKING_POLICY), 1)
ROLES = sorted({*DEMO_POLICY.rules, "exporter"})
PURPOSES = sorted({purpose for by_purpose in POLICY.policy.rules.values() for purpose in by_purpose})


def _access(role: str, purpose: str) -> Access:
    principal = Principal(
        client_id=f"export-{role}",
        department="education",
        roles=frozenset({role}),
        regions=("3505",),
        purposes=frozenset({purpose}),
        token_purposes=frozenset({purpose}),
        pseudonym_key=b"a key of the client's own",
    )
    return access_for(principal, purpose, POLICY)


def _profiles() -> Iterator[tuple[str, str]]:
    """Every role and purpose of the policy whose access may export (enter `eligibleStudents`)."""
    for role in ROLES:
        for purpose in PURPOSES:
            if _access(role, purpose).enter("eligibleStudents") is None:
                yield role, purpose


PROFILES = list(_profiles())


def _rows_as_before(engine: sa.Engine, access: Access, region: str) -> list[dict[str, Any]]:
    persons = registry.PERSONS.table
    rows = []
    with engine.connect() as connection:
        listed = list(students.iter_eligible(connection, term=TERM, regions=access.visible(region)))
        names = dict(
            connection.execute(
                sa.select(persons.c.id_number, persons.c.name).where(
                    persons.c.id_number.in_([s.id_number for s in listed])
                )
            ).all()
        )
    for entry in listed:
        subject = {"id_number": entry.id_number}
        person = {"id_number": entry.id_number, "name": names.get(entry.id_number)}
        access.apply("Person", person, subject)
        reasons = []
        for reason in entry.reasons:
            shown = {
                "code": reason.code,
                "department": reason.department,
                "table": reason.table,
                "source_record": reason.record_key,
                "as_of": reason.as_of,
            }
            access.apply("EligibilityReason", shown, subject)
            reasons.append(shown)
        student: dict[str, Any] = {
            "stage": entry.stage,
            "school_name": entry.school_name,
            "school_code": entry.school_code,
            "grade": entry.grade,
            "reasons": reasons,
            "aid_granted": entry.aid_granted,
        }
        access.apply("EligibleStudent", student, subject)
        rows.append(export_row(person, student))  # the row's shape is the export's; what fills it is the old path's
    return rows


def _state(access: Access) -> tuple[Any, ...]:
    return access.subjects, access.seen, access.exceptions


def test_some_profiles_export_and_some_mask() -> None:
    # the comparison below covers the demo's exporting roles and the masking one
    assert {("student-aid", "student-aid"), ("education", "student-aid"), ("exporter", "student-aid")} <= set(PROFILES)


@pytest.mark.parametrize(("role", "purpose"), PROFILES)
def test_export_cells_are_those_of_the_policy_applied_object_by_object(
    writable_demo_engine: sa.Engine, role: str, purpose: str
) -> None:
    # given the demo city and an access profile that may export
    before, after = _access(role, purpose), _access(role, purpose)
    # when the export is made, and the same rows are made as before (Access.apply on every object)
    exported = list(export_rows(writable_demo_engine, after, term=TERM, region="3505", operation="test export"))
    expected = _rows_as_before(writable_demo_engine, before, "3505")
    # then every cell is the same, and the access (what the audit events are made from) is left alike
    assert exported and exported == expected
    assert _state(after) == _state(before)
