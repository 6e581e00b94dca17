"""What a student event says: the student-aid event types and their data, under the client's policy.

The transport (`webhooks.payloads.render`) adds the envelope around this data at each attempt:

    {"id": "evt_…", "type": "student.eligible", "sequence": 42, "subscription": "sub_…",
     "term": "2026-2027-1", "occurred_at": "2026-11-24T08:00:00Z",
     "student": {"id_number": "…", "stage": "JUNIOR_SECONDARY", "school_code": "…", "school_name": "…",
                 "grade": 2},
     "reasons": [{"code": "DIBAO", "department": "civil_affairs", "table": "dibao",
                  "source_record": "…", "as_of": "2026-11-20T00:00:00Z"}],
     "aid_granted": false}

    {"id": "evt_…", "type": "student.no_longer_eligible", …, "student": {"id_number": "…"},
     "previous_reasons": ["DIBAO"]}

Only what the student-aid role is shown: identities, stages, schools, reason codes with their
departments and source records. Never names of conditions, diagnoses, incomes or amounts.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

from auth.access import Access, access_for
from auth.clients import Client
from auth.disclosure import Selected, disclose
from auth.policy import CompiledPolicy
from resolvers.students import eligibility as students
from resolvers.students.presented import presented_person, presented_reason_codes, presented_student
from webhooks.kinds import event_kind
from webhooks.payloads import iso
from webhooks.queue import QueuedEvent

# Registered in `webhooks.kinds`, which says the purpose each is presented under.
ELIGIBLE: Final = event_kind("student.eligible").name
NO_LONGER_ELIGIBLE: Final = event_kind("student.no_longer_eligible").name
EVENT_TYPES: Final = (ELIGIBLE, NO_LONGER_ELIGIBLE)


# The governed fields a payload carries, for its audit event (what was revealed, masked or withheld).
def _selected(fields: Iterable[tuple[str, str]]) -> tuple[Selected, ...]:
    return tuple(Selected(f"webhook.{type_name}.{name}", type_name, name) for type_name, name in fields)


_ELIGIBLE_FIELDS = _selected(
    [("Person", "idNumber")]
    + [("EligibleStudent", name) for name in ("stage", "schoolName", "schoolCode", "grade", "reasons", "aidGranted")]
    + [("EligibilityReason", name) for name in ("code", "department", "table", "sourceRecord")]
)
_GONE_FIELDS = _selected([("Person", "idNumber"), ("EligibilityReason", "code")])


class StudentPayloads:
    """Event data under the client's policy view for its kind's purpose, one `Access` per student."""

    def __init__(self, policy: CompiledPolicy, client: Client) -> None:
        self._policy = policy
        self._version = policy.version
        self._client = client

    def eligible(self, student: students.EligibleStudent) -> QueuedEvent:
        access = self._access(ELIGIBLE)
        person = presented_person(access, student.id_number)
        shown = presented_student(access, student)
        reasons = shown["reasons"]
        if reasons is not None:
            reasons = [
                {**reason, "as_of": iso(reason["as_of"]) if reason["as_of"] is not None else None} for reason in reasons
            ]
        data = {
            "student": {
                "id_number": person["id_number"],
                "stage": shown["stage"],
                "school_code": shown["school_code"],
                "school_name": shown["school_name"],
                "grade": shown["grade"],
            },
            "reasons": reasons,
            "aid_granted": shown["aid_granted"],
        }
        return QueuedEvent(student.id_number, data, self._disclosure(access, _ELIGIBLE_FIELDS))

    def gone(self, id_number: str, codes: list[str]) -> QueuedEvent:
        access = self._access(NO_LONGER_ELIGIBLE)
        person = presented_person(access, id_number)
        previous = presented_reason_codes(access, id_number, codes)
        data = {"student": {"id_number": person["id_number"]}, "previous_reasons": previous}
        return QueuedEvent(id_number, data, self._disclosure(access, _GONE_FIELDS))

    def refusal(self) -> str | None:
        """Why this client may not be told of students at all: the `eligibleStudents` entry point's answer."""
        for kind in EVENT_TYPES:
            problem = self._access(kind).enter("eligibleStudents")
            if problem is not None:
                return problem
        return None

    def _access(self, kind: str) -> Access:
        purpose = event_kind(kind).purpose
        return access_for(self._client.principal(token_purposes=[purpose]), purpose, self._policy)

    def _disclosure(self, access: Access, fields: tuple[Selected, ...]) -> dict[str, Any]:
        found = disclose(access, fields)
        return {
            "revealed": found.revealed,
            "masked": found.masked,
            "withheld": found.withheld,
            "policy_version": self._version,
        }
