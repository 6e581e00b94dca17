"""An eligible student as a caller may see it: the one presenter behind the list, the export and webhooks.

`eligibleStudents`, the term export and the student webhooks each show the same student; each used to
apply the policy to its own copy of the row. Here the row is made once: the student's school, stage and
aid and every reason, with the caller's policy applied to each object, values as the store holds them
(codes as text, times as stored). Each path only shapes the result (GraphQL enums, CSV cells, JSON).
"""

from __future__ import annotations

from typing import Any

from auth.access import Access
from resolvers.students.eligibility import EligibleStudent


def presented_person(access: Access, id_number: str, **fields: Any) -> dict[str, Any]:
    """The student's own fields that a path carries (the id, perhaps the name), as the policy leaves them."""
    values = {"id_number": id_number, **fields}
    access.apply("Person", values, {"id_number": id_number})
    return values


def presented_reason_codes(access: Access, id_number: str, codes: list[str]) -> list[str | None]:
    """Reason codes alone (a student who no longer qualifies is told only which reasons ended)."""
    subject = {"id_number": id_number}
    shown = []
    for code in codes:
        values: dict[str, Any] = {"code": code}
        access.apply("EligibilityReason", values, subject)
        shown.append(values["code"])
    return shown


def presented_student(access: Access, entry: EligibleStudent) -> dict[str, Any]:
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
        access.apply("EligibilityReason", shown, subject)
        reasons.append(shown)
    values: dict[str, Any] = {
        "stage": entry.stage,
        "school_name": entry.school_name,
        "school_code": entry.school_code,
        "grade": entry.grade,
        "reasons": reasons,
        "aid_granted": entry.aid_granted,
    }
    access.apply("EligibleStudent", values, subject)
    return values
