"""What a webhook body is: the envelope around an event's data, rendered the same bytes at every attempt.

The body is rendered from the delivery's stored columns at each attempt (keys sorted, no whitespace),
so a retry is the same event: the event's own data (made by the feature that raised it, e.g.
`resolvers.students.payloads`) with the envelope's keys beside it:

    {"id": "evt_…", "type": "student.eligible", "sequence": 42, "subscription": "sub_…",
     "term": "2026-2027-1", "occurred_at": "2026-11-24T08:00:00Z", …the event's data…}
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import orjson


def render(
    *,
    event_id: str,
    event_type: str,
    sequence: int,
    subscription_id: str,
    term: str | None,
    occurred_at: datetime,
    data: Mapping[str, Any],
) -> bytes:
    envelope = {
        "id": event_id,
        "type": event_type,
        "sequence": sequence,
        "subscription": subscription_id,
        "occurred_at": iso(occurred_at),
    }
    if term is not None:  # a student event's; other kinds have none
        envelope["term"] = term
    return orjson.dumps({**data, **envelope}, option=orjson.OPT_SORT_KEYS)


def iso(moment: datetime) -> str:
    """UTC, seconds, with a Z: `2026-11-24T08:00:00Z`."""
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"
