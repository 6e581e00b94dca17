"""An eligible student as a caller may see it: the one presenter behind the list, the export and webhooks.

`eligibleStudents`, the term export and the student webhooks each show the same student; each used to
apply the policy to its own copy of the row. Here the row is made once: the student's school, stage and
aid and every reason, with the caller's policy applied to each object, values as the store holds them
(codes as text, times as stored). Each path only shapes the result (GraphQL enums, CSV cells, JSON).

A `StudentPresenter` serves many students under one access (an export's, a page's): the policy's rules
for the fields it shows are picked once per type (`Access.applier`), and only those run per student.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from auth.access import Access
from resolvers.students.eligibility import EligibleStudent

STUDENT_FIELDS = ("stage", "school_name", "school_code", "grade", "reasons", "aid_granted")
REASON_FIELDS = ("code", "department", "table", "source_record", "as_of")


class StudentPresenter:
    """Students as `access` may see them; `person_fields`: the student's own fields shown beside the id."""

    def __init__(self, access: Access, person_fields: Collection[str] = ()) -> None:
        self._person = access.applier("Person", ("id_number", *person_fields))
        self._student = access.applier("EligibleStudent", STUDENT_FIELDS)
        self._reason = access.applier("EligibilityReason", REASON_FIELDS)

    def person(self, id_number: str, **fields: Any) -> dict[str, Any]:
        """The student's own fields that a path carries (the id, perhaps the name), as the policy leaves them."""
        values = {"id_number": id_number, **fields}
        self._person(values, {"id_number": id_number})
        return values

    def reason_codes(self, id_number: str, codes: list[str]) -> list[str | None]:
        """Reason codes alone (a student who no longer qualifies is told only which reasons ended)."""
        subject = {"id_number": id_number}
        shown = []
        for code in codes:
            values: dict[str, Any] = {"code": code}
            self._reason(values, subject)
            shown.append(values["code"])
        return shown

    def student(self, entry: EligibleStudent) -> dict[str, Any]:
        """stage, school_name, school_code, grade, aid_granted and reasons (each code, department, table,
        source_record, as_of), as the policy leaves them; `reasons` is None where it is withheld."""
        subject = {"id_number": entry.id_number}
        reasons = []
        for reason in entry.reasons:
            shown: dict[str, Any] = {
                "code": reason.code,
                "department": reason.department,
                "table": reason.table,
                "source_record": reason.record_key,
                "as_of": reason.as_of,
            }
            self._reason(shown, subject)
            reasons.append(shown)
        values: dict[str, Any] = {
            "stage": entry.stage,
            "school_name": entry.school_name,
            "school_code": entry.school_code,
            "grade": entry.grade,
            "reasons": reasons,
            "aid_granted": entry.aid_granted,
        }
        self._student(values, subject)
        return values


def presented_person(access: Access, id_number: str, **fields: Any) -> dict[str, Any]:
    """One student's own fields (`StudentPresenter.person`)."""
    return StudentPresenter(access, fields).person(id_number, **fields)


def presented_reason_codes(access: Access, id_number: str, codes: list[str]) -> list[str | None]:
    """One student's reason codes alone (`StudentPresenter.reason_codes`)."""
    return StudentPresenter(access).reason_codes(id_number, codes)


def presented_student(access: Access, entry: EligibleStudent) -> dict[str, Any]:
    """One student (`StudentPresenter.student`)."""
    return StudentPresenter(access).student(entry)
