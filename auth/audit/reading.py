"""The trail read by a person (the console's auditor): a search and a check of the chain, each itself audited.

Who reads the trail learns who asked for whom: that is a disclosure like any other, so each search and
each verification a person makes is one event naming them (`actor`) and how they came (`caller`: the
console's `Caller(client_id="console")`), written before the answer is handed back. A search's event
says which filters it used and how many events it showed; a search by resident names that resident
among its subjects (stored as the trail's pseudonym, like every subject), so the resident's own access
log shows that an auditor looked them up. The resident id is never put in the event's words.
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

import sqlalchemy as sa

from auth.audit.event import Caller, audit_event
from auth.audit.search import DEFAULT_PAGE, SearchPage, search
from auth.audit.verifier import VerifyReport, format_report, verify
from auth.audit.writer import AuditLog

AUDIT_SEARCHED: Final = "audit-searched"
"""The outcome of a person's search of the trail."""
AUDIT_VERIFIED: Final = "audit-verified"
"""The outcome of a person's check of the trail's chain."""


def search_as(
    engine: sa.Engine,
    *,
    by: str,
    caller: Caller,
    client_id: str | None = None,
    purpose: str | None = None,
    outcome: str | None = None,
    operation: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    resident_id: str | None = None,
    first: int = DEFAULT_PAGE,
    before_seq: int | None = None,
) -> SearchPage:
    """`auth.audit.search.search` for the person `by`, with its event (outcome `audit-searched`) written first.

    Raises SearchError as `search` does (then nothing was shown and nothing is written), and
    AuditUnavailable when the event cannot be written (then the page must not be shown).
    """
    found = search(
        engine,
        client_id=client_id,
        purpose=purpose,
        outcome=outcome,
        operation=operation,
        since=since,
        until=until,
        resident_id=resident_id,
        first=first,
        before_seq=before_seq,
    )
    resident = (resident_id or "").strip()
    filters = [
        f"{name} {value}"
        for name, value in (
            ("client", client_id),
            ("purpose", purpose),
            ("outcome", outcome),
            ("operation", operation),
            ("since", since.isoformat() if since else None),
            ("until", until.isoformat() if until else None),
            ("before seq", before_seq),
        )
        if value not in (None, "")
    ]
    if resident:
        filters.append("a resident (the subject)")
    shown = f"{len(found.entries)} events shown" + ("; more older ones" if found.next_before_seq else "")
    event = audit_event(
        AUDIT_SEARCHED,
        caller=caller,
        actor=by,
        operation="audit search",
        document_hash=None,  # no document: the detail says what was asked
        subjects=(resident,) if resident else (),
        detail=f"{'; '.join(filters) or 'no filter'}: {shown}",
    )
    AuditLog(engine).append(event)
    return found


def verify_as(engine: sa.Engine, *, by: str, caller: Caller, anchor: tuple[int, str] | None = None) -> VerifyReport:
    """`auth.audit.verifier.verify` for the person `by`, with its event (outcome `audit-verified`, the report's
    line as its detail) appended after the check: the check sees the trail as it was before it."""
    report = verify(engine, anchor=anchor)
    event = audit_event(
        AUDIT_VERIFIED,
        caller=caller,
        actor=by,
        operation="audit verify",
        document_hash=None,
        detail=format_report(report),
    )
    AuditLog(engine).append(event)
    return report
