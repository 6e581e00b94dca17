"""Revoked access tokens (RFC 7009): a denylist by token id in the store, so every worker honours it."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from auth.tables import revoked_token


def revoke(engine: sa.Engine, *, jti: str, client_id: str, expires_at: datetime, now: datetime | None = None) -> None:
    """Deny the token from now until it expires; revoking twice is harmless."""
    moment = (now or datetime.now(UTC)).astimezone(UTC)
    values = {"jti": jti, "client_id": client_id, "expires_at": expires_at.astimezone(UTC), "revoked_at": moment}
    with engine.begin() as connection:
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        connection.execute(insert(revoked_token).values(**values).on_conflict_do_nothing(index_elements=["jti"]))
        # An expired token is refused for its expiry alone: its row is no longer needed.
        connection.execute(revoked_token.delete().where(revoked_token.c.expires_at < moment))


def is_revoked(engine: sa.Engine, jti: str) -> bool:
    """One primary-key lookup per request."""
    with engine.connect() as connection:
        statement = sa.select(revoked_token.c.jti).where(revoked_token.c.jti == jti)
        return connection.execute(statement).first() is not None


def revoked_ids(engine: sa.Engine) -> frozenset[str]:
    """Every token id revoked and not yet expired: what a worker keeps in memory between refreshes."""
    with engine.connect() as connection:
        statement = sa.select(revoked_token.c.jti).where(revoked_token.c.expires_at > datetime.now(UTC))
        return frozenset(connection.execute(statement).scalars())
