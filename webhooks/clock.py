"""Times as the notification tables hold them: aware UTC in Python, UTC in the store."""

from __future__ import annotations

from datetime import UTC, datetime


def utc(moment: datetime) -> datetime:
    """SQLite hands back the naive UTC time it was given; PostgreSQL an aware one in the session's zone."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def now_or(moment: datetime | None) -> datetime:
    return utc(moment) if moment is not None else datetime.now(UTC)
