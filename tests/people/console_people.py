"""What the people tests share: the trail's events as stored, and a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auth.tables import audit_event

NINE = datetime(2026, 12, 1, 9, 0, 0, tzinfo=UTC)


def stored_events(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()
        return [dict(row) for row in rows]


def outcomes(engine: sa.Engine) -> list[str]:
    return [event["outcome"] for event in stored_events(engine)]


class Clock:
    """Seconds since the epoch, as `time.time` gives them; moved by the test."""

    def __init__(self, now: datetime = NINE) -> None:
        self.now = now.timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
