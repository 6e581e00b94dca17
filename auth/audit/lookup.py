"""Reading the audit trail: who read a given person's data, when, why and what they saw (`accessLog`),
and the events of a time window (a draft policy's impact replay reads them here, not from the tables).

Subjects are stored as pseudonyms under the hub audit key (auth/audit/writer.py), so a person's events
are found by computing their pseudonym, never by a resident id in the tables.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa

from auth.audit.verifier import utc
from auth.hub_keys import AUDIT_KEY
from auth.masks import pseudonym
from auth.tables import audit_event, audit_subject, hub_secret


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


def access_log(engine: sa.Engine, id_number: str, *, first: int, after_seq: int | None = None) -> list[AccessLogEntry]:
    """The events that returned this person, newest first: at most `first`, older than `after_seq`.

    `id_number` is a resident id (18-digit; other valid spellings name the same person). Raises
    ValueError (MaskError) when it is not a valid id.
    """
    if first < 0:
        raise ValueError("first must not be negative")
    with engine.connect() as connection:
        key = _audit_key(connection)
        # Computed even without a key, so that an invalid id is refused whether or not events exist.
        subject = pseudonym(id_number, key=key or b"no audit key yet")
        if key is None or first == 0:
            return []  # no key: no event was ever written
        query = (
            sa.select(audit_event)
            .join(audit_subject, audit_subject.c.seq == audit_event.c.seq)
            .where(audit_subject.c.subject == subject)
            .order_by(audit_subject.c.seq.desc())
            .limit(first)
        )
        if after_seq is not None:
            query = query.where(audit_subject.c.seq < after_seq)
        rows = connection.execute(query).mappings().all()
    return [_entry(row) for row in rows]


def events_in_window(
    engine: sa.Engine, *, since: datetime, until: datetime, batch_size: int = 1000
) -> Iterator[AccessLogEntry]:
    """Every event from `since` (included) to `until` (excluded), oldest first, read in batches.

    Subjects are left out: a replay needs what was asked and disclosed, not whom it was about.
    """
    query = (
        sa.select(audit_event)
        .where(audit_event.c.at >= utc(since), audit_event.c.at < utc(until))
        .order_by(audit_event.c.seq)
    )
    with engine.connect() as connection:
        for row in connection.execution_options(yield_per=batch_size).execute(query).mappings():
            yield _entry(row)


def _entry(row: sa.RowMapping) -> AccessLogEntry:
    return AccessLogEntry(
        seq=row["seq"],
        at=utc(row["at"]),
        client_id=row["client_id"],
        actor=row["actor"],
        roles=tuple(row["roles"]),
        purpose=row["purpose"],
        case_id=row["case_id"],
        operation=row["operation"],
        outcome=row["outcome"],
        revealed=tuple(row["revealed"]),
        masked=tuple(row["masked"]),
        withheld=tuple(row["withheld"]),
        policy_version=row["policy_version"],
    )


def _audit_key(connection: sa.Connection) -> bytes | None:
    """The audit key if one was ever made (reading must not make it: no key means no event yet)."""
    value = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == AUDIT_KEY)).scalar()
    return bytes.fromhex(value) if value is not None else None
