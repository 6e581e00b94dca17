"""Reading stored audit events back: one row as typed values, and the pseudonym that finds a resident's events.

Shared by the look-ups of the trail (`auth.audit.lookup`'s `access_log`, `auth.audit.search`), so that
a later change of how an event is stored is made here once, not in each reader. Since migration 0016 an
event's lists may be named by key (auth/audit/profiles.py): `EVENTS` joins the profile beside its event,
so a reader gets the lists as the writer was given them, in the same statement, one profile per event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import sqlalchemy as sa

from auth.audit.profiles import LISTS
from auth.audit.verifier import utc
from auth.hub_keys import AUDIT_KEY
from auth.masks import pseudonym
from auth.tables import audit_disclosure, audit_event, hub_secret


def _disclosed(name: str) -> sa.ColumnElement[Any]:
    """An event's list: its profile's when it names one, else its own (an event of before 0016, or none)."""
    return sa.func.coalesce(audit_disclosure.c[name], audit_event.c[name], type_=sa.JSON).label(name)


EVENTS: Final = audit_event.outerjoin(audit_disclosure, audit_disclosure.c.key == audit_event.c.disclosure_key)
"""What readers select from: each event with the profile it names (if any)."""

# What a reader selects of an event: every column but the chain's hashes and the document hash, and the
# subjects as their number, counted by the store (an export page's event names 2000 pseudonyms).
EVENT_COLUMNS: Final = (
    *(
        audit_event.c[name]
        for name in (
            "seq", "at", "client_id", "actor", "roles", "purpose", "case_id", "operation", "outcome", "detail",
            "policy_version",
        )
    ),
    *(_disclosed(name) for name in LISTS),
    sa.func.json_array_length(audit_event.c.subjects).label("subject_count"),
)  # fmt: skip


def select_events() -> sa.Select[Any]:
    """`select(*EVENT_COLUMNS)` from `EVENTS`: where every reader of events starts."""
    return sa.select(*EVENT_COLUMNS).select_from(EVENTS)


def select_stored_rows() -> sa.Select[Any]:
    """Every column of `audit_event`, the lists resolved through the event's profile: a whole row as its
    writer was given it (for tools and tests that look at stored rows; `disclosure_key` is kept)."""
    return sa.select(
        *(_disclosed(column.name) if column.name in LISTS else column for column in audit_event.columns)
    ).select_from(EVENTS)


# Stands in for the audit key while none exists, so an invalid id is refused whether or not events exist.
_NO_KEY_YET = b"no audit key yet"


@dataclass(frozen=True, kw_only=True)
class StoredEvent:
    """An event as stored, read back: every column but the chain's hashes, subjects only as a count.

    The subjects are pseudonyms; a reader of the trail is told how many there were, never which.
    """

    seq: int
    at: datetime
    client_id: str | None
    actor: str | None
    roles: tuple[str, ...]
    purpose: str | None
    case_id: str | None
    operation: str | None
    outcome: str
    detail: str | None
    policy_version: int | None
    subject_count: int
    revealed: tuple[str, ...]
    masked: tuple[str, ...]
    withheld: tuple[str, ...]

    @property
    def revealed_count(self) -> int:
        return len(self.revealed)

    @property
    def masked_count(self) -> int:
        return len(self.masked)

    @property
    def withheld_count(self) -> int:
        return len(self.withheld)

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> StoredEvent:
        """From a row of `select(*EVENT_COLUMNS)`, whichever backend returned it."""
        return cls(
            seq=row["seq"],
            at=utc(row["at"]),
            client_id=row["client_id"],
            actor=row["actor"],
            roles=tuple(row["roles"]),
            purpose=row["purpose"],
            case_id=row["case_id"],
            operation=row["operation"],
            outcome=row["outcome"],
            detail=row["detail"],
            policy_version=row["policy_version"],
            subject_count=int(row["subject_count"]),
            revealed=tuple(row["revealed"]),
            masked=tuple(row["masked"]),
            withheld=tuple(row["withheld"]),
        )


def stored_audit_key(connection: sa.Connection) -> bytes | None:
    """The audit key if one was ever made (reading must not make it: no key means no event yet)."""
    value = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == AUDIT_KEY)).scalar()
    return bytes.fromhex(value) if value is not None else None


def resident_pseudonym(id_number: str, *, key: bytes | None) -> str | None:
    """The pseudonym the writer stores for this resident (any valid spelling: 18-digit, 15-digit, lower-case x,
    full-width digits), or None when no key exists yet (then no event names anyone).

    Raises MaskError (a ValueError) when `id_number` is not a valid resident id; its message never
    quotes the id. The id itself is used only here, in memory: it is never stored, logged or sent.
    """
    subject = pseudonym(id_number, key=key or _NO_KEY_YET)
    return subject if key is not None else None
