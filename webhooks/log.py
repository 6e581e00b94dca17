"""The delivery log for operators: deliveries with every attempt, and requeueing the ones given up."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from webhooks.clock import now_or, utc
from webhooks.tables import webhook_attempt, webhook_delivery

STATUSES = ("pending", "delivered", "failed")


@dataclass(frozen=True)
class Attempt:
    attempt: int
    attempted_at: datetime
    status_code: int | None
    error: str | None
    duration_ms: int
    outcome: str  # delivered, retry or failed


@dataclass(frozen=True)
class DeliveryEntry:
    """One delivery as the log shows it: no payload (it holds personal data), no secret."""

    delivery_id: int
    event_id: str
    subscription_id: str
    event_type: str
    term: str | None  # a student event's
    status: str
    attempts: int
    occurred_at: datetime
    next_attempt_at: datetime | None  # only while pending
    finished_at: datetime | None
    last_error: str | None
    history: tuple[Attempt, ...]

    @classmethod
    def from_row(cls, row: Mapping[Any, Any], history: list[Attempt]) -> DeliveryEntry:
        finished = row["finished_at"]
        return cls(
            delivery_id=row["delivery_id"],
            event_id=row["event_id"],
            subscription_id=row["subscription_id"],
            event_type=row["event_type"],
            term=row["term"],
            status=row["status"],
            attempts=row["attempts"],
            occurred_at=utc(row["occurred_at"]),
            next_attempt_at=utc(row["next_attempt_at"]) if row["status"] == "pending" else None,
            finished_at=utc(finished) if finished is not None else None,
            last_error=row["last_error"],
            history=tuple(history),
        )


def delivery_log(
    engine: sa.Engine,
    *,
    subscription_id: str | None = None,
    status: str | None = None,
    limit: int = 50,
    before: int | None = None,
) -> list[DeliveryEntry]:
    """The newest deliveries first (`before` a delivery id pages back), each with its attempts in order."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"status {status!r}: one of {', '.join(STATUSES)}")
    listed = [column for column in webhook_delivery.c if column.name not in ("data", "disclosure", "subject")]
    statement = sa.select(*listed).order_by(webhook_delivery.c.delivery_id.desc()).limit(limit)
    if subscription_id is not None:
        statement = statement.where(webhook_delivery.c.subscription_id == subscription_id)
    if status is not None:
        statement = statement.where(webhook_delivery.c.status == status)
    if before is not None:
        statement = statement.where(webhook_delivery.c.delivery_id < before)
    with engine.connect() as connection:
        rows = connection.execute(statement).mappings().all()
        history: dict[int, list[Attempt]] = defaultdict(list)
        if rows:
            attempts = connection.execute(
                sa.select(webhook_attempt)
                .where(webhook_attempt.c.delivery_id.in_([row["delivery_id"] for row in rows]))
                .order_by(webhook_attempt.c.delivery_id, webhook_attempt.c.attempt)
            ).mappings()
            for attempt in attempts:
                history[attempt["delivery_id"]].append(
                    Attempt(
                        attempt=attempt["attempt"],
                        attempted_at=utc(attempt["attempted_at"]),
                        status_code=attempt["status_code"],
                        error=attempt["error"],
                        duration_ms=attempt["duration_ms"],
                        outcome=attempt["outcome"],
                    )
                )
    return [DeliveryEntry.from_row(row, history[row["delivery_id"]]) for row in rows]


def requeue_failed(engine: sa.Engine, *, subscription_id: str, now: datetime | None = None) -> int:
    """Give a subscription's failed deliveries a new round of attempts (after a long outage, or a fixed
    receiver); they go out again in their original order, ahead of newer ones. Returns how many."""
    with engine.begin() as connection:
        return int(
            connection.execute(
                webhook_delivery.update()
                .where(webhook_delivery.c.subscription_id == subscription_id, webhook_delivery.c.status == "failed")
                .values(
                    status="pending",
                    next_attempt_at=now_or(now),
                    finished_at=None,
                    requeued_after=webhook_delivery.c.attempts,
                )
            ).rowcount
        )
