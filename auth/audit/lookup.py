"""Reading the audit trail: who read a given person's data, when, why and what they saw (`accessLog`),
and the events of a time window (a draft policy's impact replay reads them here, not from the tables).

Subjects are stored as pseudonyms under the hub audit key (auth/audit/writer.py), so a person's events
are found by computing their pseudonym (`auth.audit.rows.resident_pseudonym`), never by a resident id in
the tables. Rows are read by `auth.audit.rows.StoredEvent`, as the audit search reads them.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from auth.audit.rows import StoredEvent, resident_pseudonym, select_events, stored_audit_key
from auth.audit.verifier import utc
from auth.tables import audit_event, audit_subject


@dataclass(frozen=True, kw_only=True)
class AccessLogEntry:
    """One event that returned a given person: who read their data, when, why, and what they saw."""

    seq: int
    at: datetime
    client_id: str | None
    roles: tuple[str, ...]
    purpose: str | None
    case_id: str | None
    operation: str | None
    outcome: str
    revealed: tuple[str, ...]
    masked: tuple[str, ...]
    withheld: tuple[str, ...]
    actor: str | None = None
    policy_version: int | None = None

    @classmethod
    def of(cls, event: StoredEvent) -> AccessLogEntry:
        return cls(
            seq=event.seq,
            at=event.at,
            client_id=event.client_id,
            actor=event.actor,
            roles=event.roles,
            purpose=event.purpose,
            case_id=event.case_id,
            operation=event.operation,
            outcome=event.outcome,
            revealed=event.revealed,
            masked=event.masked,
            withheld=event.withheld,
            policy_version=event.policy_version,
        )


def access_log(engine: sa.Engine, id_number: str, *, first: int, after_seq: int | None = None) -> list[AccessLogEntry]:
    """The events that returned this person, newest first: at most `first`, older than `after_seq`.

    `id_number` is a resident id (18-digit; other valid spellings name the same person). Raises
    ValueError (MaskError) when it is not a valid id.
    """
    if first < 0:
        raise ValueError("first must not be negative")
    with engine.connect() as connection:
        subject = resident_pseudonym(id_number, key=stored_audit_key(connection))
        if subject is None or first == 0:
            return []  # no key: no event was ever written
        query = (
            select_events()
            .join(audit_subject, audit_subject.c.seq == audit_event.c.seq)
            .where(audit_subject.c.subject == subject)
            .order_by(audit_subject.c.seq.desc())
            .limit(first)
        )
        if after_seq is not None:
            query = query.where(audit_subject.c.seq < after_seq)
        rows = connection.execute(query).mappings().all()
    return [AccessLogEntry.of(StoredEvent.from_row(row)) for row in rows]


def events_in_window(
    engine: sa.Engine, *, since: datetime, until: datetime, batch_size: int = 1000
) -> Iterator[AccessLogEntry]:
    """Every event from `since` (included) to `until` (excluded), oldest first, read in batches.

    Subjects are left out: a replay needs what was asked and disclosed, not whom it was about.
    """
    query = (
        select_events().where(audit_event.c.at >= utc(since), audit_event.c.at < utc(until)).order_by(audit_event.c.seq)
    )
    with engine.connect() as connection:
        for row in connection.execution_options(yield_per=batch_size).execute(query).mappings():
            yield AccessLogEntry.of(StoredEvent.from_row(row))
