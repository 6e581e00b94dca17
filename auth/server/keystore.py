"""The signing key ring every worker shares through the `hub_secret` table, and each worker's copy of it.

The ring's private keys are stored in clear: whoever reads the store can sign tokens, so the store
is guarded as the secret it is. Workers write the ring only to create it on first use;
`aidgraph keys rotate` writes each new one.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from auth.keys import KeyRing
from auth.tables import hub_secret

SIGNING_KEYS = "signing-keys"

# How stale a worker's ring may be when it signs. A rotated-out key stays published for
# KeyRing.retention (20 min) and tokens live at most 15 min, so anything under 5 min is safe;
# until a worker reloads it keeps signing with the previous key, which is still published.
ISSUING_MAX_AGE = 60.0
# When a token or a JWKS request may need a newer ring: reload, but at most this often per worker,
# so tokens with made-up key ids cannot turn into one database read each.
RELOAD_INTERVAL = 1.0


def _insert_if_absent(connection: sa.Connection, values: dict[str, Any]) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: of two workers creating the ring at once, one wins, both re-read."""
    insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
    connection.execute(insert(hub_secret).values(**values).on_conflict_do_nothing(index_elements=["name"]))


def _read(connection: sa.Connection) -> str | None:
    statement = sa.select(hub_secret.c.value).where(hub_secret.c.name == SIGNING_KEYS)
    return connection.execute(statement).scalar_one_or_none()


def load_ring_text(engine: sa.Engine, *, now: datetime | None = None) -> str:
    """The stored ring as JSON, creating it on first use."""
    with engine.connect() as connection:
        text = _read(connection)
    if text is not None:
        return text
    moment = now or datetime.now(UTC)
    with engine.begin() as connection:
        fresh = KeyRing.generate(now=moment).to_json()
        _insert_if_absent(connection, {"name": SIGNING_KEYS, "value": fresh, "updated_at": moment})
        text = _read(connection)
    if text is None:
        raise RuntimeError("the signing key ring vanished while it was being created")
    return text


def load_ring(engine: sa.Engine, *, now: datetime | None = None) -> KeyRing:
    return KeyRing.from_json(load_ring_text(engine, now=now))


def rotate_ring(engine: sa.Engine, *, now: datetime | None = None) -> KeyRing:
    """Start signing with a new key; the old one stays published until its tokens have expired."""
    moment = now or datetime.now(UTC)
    load_ring_text(engine, now=moment)
    with engine.begin() as connection:
        # The row lock serialises two rotations on PostgreSQL; SQLite serialises writers anyway.
        statement = sa.select(hub_secret.c.value).where(hub_secret.c.name == SIGNING_KEYS).with_for_update()
        ring = KeyRing.from_json(connection.execute(statement).scalar_one())
        ring.rotate(now=moment)
        connection.execute(
            hub_secret.update().where(hub_secret.c.name == SIGNING_KEYS).values(value=ring.to_json(), updated_at=moment)
        )
    return ring


class KeyRingCache:
    """One worker's copy of the shared ring, reloaded when it may be stale; safe to share between threads."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._ring: KeyRing | None = None
        self._text: str | None = None
        self._loaded_at = 0.0

    def ring(self, engine: sa.Engine, *, max_age: float = ISSUING_MAX_AGE) -> KeyRing:
        """The ring, read again from the store if this copy is older than `max_age` seconds."""
        ring = self._ring
        if ring is not None and self._clock() - self._loaded_at < max_age:
            return ring
        with self._lock:
            if self._ring is None or self._clock() - self._loaded_at >= max_age:
                self._reload(engine)
            assert self._ring is not None
            return self._ring

    def fresh(self, engine: sa.Engine) -> KeyRing:
        """After meeting an unknown key id: reload unless this copy was read a moment ago."""
        return self.ring(engine, max_age=RELOAD_INTERVAL)

    def _reload(self, engine: sa.Engine) -> None:
        text = load_ring_text(engine)
        if text != self._text:  # parsing keys costs more than reading the row: skip it when nothing changed
            self._ring, self._text = KeyRing.from_json(text), text
        self._loaded_at = self._clock()
