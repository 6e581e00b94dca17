"""Searching the audit trail (the console's audit page, `aidgraph audit search`): events by who, why, what and when.

A resident is searched for as the trail stores them: by the pseudonym of their id under the hub audit
key (`auth.audit.rows.resident_pseudonym`, the writer's own), joined through `audit_subject`. The id
is neither stored nor logged, and no entry carries a subject: only how many an event named.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa

from auth.audit.rows import StoredEvent, resident_pseudonym, select_events, stored_audit_key
from auth.tables import audit_event, audit_subject, oauth_client

MAX_PAGE: Final = 200
"""The most events one search returns; `first` is 1 to this."""
DEFAULT_PAGE: Final = 50

RECENT_FOR_CHOICES: Final = 10_000
"""`distinct_values` looks at this many of the newest events: bounded work however long the trail."""
MAX_CHOICES: Final = 200
"""`distinct_values` names at most this many values per filter."""


class SearchError(ValueError):
    """A search that cannot be run as asked; the message says what to change (it never quotes a resident id)."""


@dataclass(frozen=True)
class SearchPage:
    """One page of a search, newest first.

    `next_before_seq` is the `before_seq` of the next (older) page, or None when this page is the last.
    """

    entries: tuple[StoredEvent, ...]
    next_before_seq: int | None


@dataclass(frozen=True)
class FilterChoices:
    """Values a search's filters can take, as seen on the trail (each list sorted, at most MAX_CHOICES)."""

    client_ids: tuple[str, ...]
    purposes: tuple[str, ...]
    outcomes: tuple[str, ...]


def search(
    engine: sa.Engine,
    *,
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
    """The events that match every filter given, newest (highest seq) first: at most `first`, older than `before_seq`.

    - `client_id`, `purpose`, `outcome`: exact matches;
    - `operation`: a **prefix**, case-sensitive (`policy` finds `policy apply`; `HouseholdPicture` finds that
      operation and any whose name begins with it);
    - `since` (inclusive) and `until` (exclusive): timezone-aware instants, compared with the event's time;
    - `resident_id`: the events that named this resident among their subjects, the id in any valid spelling
      (18-digit, legacy 15-digit, lower-case x), matched through its pseudonym, never stored;
    - a filter left None, or given as empty text (a form's empty field), does not filter.

    Paging is by seq (keyset): pass a page's `next_before_seq` as `before_seq`, and pages neither repeat
    nor skip an event, however many are appended meanwhile. Raises SearchError for a `first` outside
    1..MAX_PAGE, a time without a zone, or an invalid resident id.
    """
    if isinstance(first, bool) or not isinstance(first, int) or not 1 <= first <= MAX_PAGE:
        raise SearchError(f"first must be a whole number from 1 to {MAX_PAGE}")
    _check_lengths(client_id=client_id, purpose=purpose, outcome=outcome, operation=operation)
    conditions = _exact_conditions(client_id=client_id, purpose=purpose, outcome=outcome)
    if operation := _given(operation):
        conditions.append(sa.func.substr(audit_event.c.operation, 1, len(operation)) == operation)
    if since is not None:
        conditions.append(audit_event.c.at >= _instant(since, what="since"))
    if until is not None:
        conditions.append(audit_event.c.at < _instant(until, what="until"))
    with engine.connect() as connection:
        seq = audit_event.c.seq
        query = select_events()
        if resident_id := _given(resident_id):
            subject = _resident(resident_id, connection)
            if subject is None:
                return SearchPage(entries=(), next_before_seq=None)  # no audit key yet: no event names anyone
            # Walk the subject's own rows (its primary key is (subject, seq)), not the whole trail.
            query = query.join(audit_subject, audit_subject.c.seq == audit_event.c.seq)
            conditions.append(audit_subject.c.subject == subject)
            seq = audit_subject.c.seq
        if before_seq is not None:
            conditions.append(seq < before_seq)
        # One more than asked, to tell whether an older page exists.
        rows = connection.execute(query.where(*conditions).order_by(seq.desc()).limit(first + 1)).mappings().all()
    entries = tuple(StoredEvent.from_row(row) for row in rows[:first])
    return SearchPage(entries=entries, next_before_seq=entries[-1].seq if len(rows) > first else None)


def distinct_values(engine: sa.Engine) -> FilterChoices:
    """The clients, purposes and outcomes a search can filter on: those of the newest RECENT_FOR_CHOICES
    events, and every registered client (used or not)."""
    recent = (
        sa.select(audit_event.c.client_id, audit_event.c.purpose, audit_event.c.outcome)
        .order_by(audit_event.c.seq.desc())
        .limit(RECENT_FOR_CHOICES)
        .subquery()
    )
    with engine.connect() as connection:

        def seen(column: sa.ColumnElement[str | None]) -> set[str]:
            query = sa.select(column).where(column.is_not(None)).distinct().limit(MAX_CHOICES)
            return {value for (value,) in connection.execute(query) if value is not None}

        registered = sa.select(oauth_client.c.client_id).order_by(oauth_client.c.client_id).limit(MAX_CHOICES)
        client_ids = seen(recent.c.client_id) | set(connection.execute(registered).scalars())
        purposes, outcomes = seen(recent.c.purpose), seen(recent.c.outcome)
    return FilterChoices(
        client_ids=tuple(sorted(client_ids)[:MAX_CHOICES]),
        purposes=tuple(sorted(purposes)),
        outcomes=tuple(sorted(outcomes)),
    )


def _exact_conditions(**filters: str | None) -> list[sa.ColumnElement[bool]]:
    return [audit_event.c[name] == value for name, given in filters.items() if (value := _given(given))]


def _given(text: str | None) -> str | None:
    if text is None:
        return None
    return text.strip() or None


def _instant(moment: datetime, *, what: str) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise SearchError(f"{what} needs a time zone (e.g. 2026-11-24T09:00+08:00)")
    return moment.astimezone(UTC)


def _resident(resident_id: str, connection: sa.Connection) -> str | None:
    try:
        return resident_pseudonym(resident_id, key=stored_audit_key(connection))
    except ValueError:  # MaskError: its message does not quote the id, nor does this one
        raise SearchError("the resident id is not a valid 18- or 15-digit resident id") from None


def _check_lengths(**texts: str | None) -> None:
    """A text filter no longer than the column it is matched against: a longer one can match nothing, so
    it is refused saying so rather than searched for."""
    for name, text in texts.items():
        width = getattr(audit_event.c[name].type, "length", None)  # String(n): n
        if text is not None and width is not None and len(text) > width:
            raise SearchError(f"{name} has at most {width} characters, not {len(text)}")
