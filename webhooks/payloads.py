"""What a webhook says: the event types, the body's JSON, and what an event's data holds.

The body is rendered from the delivery's stored columns at each attempt, the same bytes every time
(keys sorted, no whitespace), so a retry is the same event:

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

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

import orjson

ELIGIBLE: Final = "student.eligible"
NO_LONGER_ELIGIBLE: Final = "student.no_longer_eligible"
EVENT_TYPES: Final = (ELIGIBLE, NO_LONGER_ELIGIBLE)


def render(
    *,
    event_id: str,
    event_type: str,
    sequence: int,
    subscription_id: str,
    term: str,
    occurred_at: datetime,
    data: Mapping[str, Any],
) -> bytes:
    envelope = {
        "id": event_id,
        "type": event_type,
        "sequence": sequence,
        "subscription": subscription_id,
        "term": term,
        "occurred_at": iso(occurred_at),
    }
    return orjson.dumps({**data, **envelope}, option=orjson.OPT_SORT_KEYS)


def iso(moment: datetime) -> str:
    """UTC, seconds, with a Z: `2026-11-24T08:00:00Z`."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
