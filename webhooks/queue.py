"""Queueing deliveries: how a feature hands the transport its events, to be signed and sent in order later."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, NamedTuple

import sqlalchemy as sa

from webhooks.kinds import event_kind
from webhooks.tables import webhook_delivery


class QueuedEvent(NamedTuple):
    """One event as its feature made it, under the receiving client's policy."""

    subject: str  # whom it is about (an id or household number): the subject of the audit event before it is sent
    data: Mapping[str, Any]  # the body beside the envelope, as sent
    disclosure: Mapping[str, Any]  # fields revealed, masked and withheld, and the policy version, for the audit


def enqueue(
    connection: sa.Connection,
    *,
    subscription_id: str,
    term: str | None,
    kind: str,
    occurred_at: datetime,
    events: Sequence[QueuedEvent],
) -> int:
    """Queue one pending delivery per event of a registered `kind`; returns how many.

    In the caller's transaction, so the deliveries are stored with what the feature found them against,
    or not at all. Raises `UnknownEventKind` (and queues nothing) for a kind no feature registered.
    """
    event_kind(kind)
    if not events:
        return 0
    connection.execute(
        webhook_delivery.insert(),
        [
            {
                "subscription_id": subscription_id,
                "term": term,
                "event_id": "evt_" + secrets.token_hex(16),
                "event_type": kind,
                "subject": event.subject,
                "data": event.data,
                "disclosure": event.disclosure,
                "occurred_at": occurred_at,
                "status": "pending",
                "attempts": 0,
                "next_attempt_at": occurred_at,
            }
            for event in events
        ],
    )
    return len(events)
