"""The hub's own symmetric keys, one `hub_secret` row each, made on first use and shared by every worker.

Each purpose has a key of its own (`audit-key` pseudonymises audit subjects, `document-key` keys the
hash of a query document, `cursor-key` seals pagination cursors), so a key that leaks for one use
does not open the others. Workers starting at once agree on one key: the row is inserted if absent,
then whatever is stored is read back.
"""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from typing import Final

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from auth.tables import hub_secret

AUDIT_KEY: Final = "audit-key"
DOCUMENT_KEY: Final = "document-key"
CURSOR_KEY: Final = "cursor-key"

_cache: dict[tuple[str, str], bytes] = {}
_lock = threading.Lock()


class HubKeyUnavailable(Exception):
    """The key could neither be read nor created (the store is unreachable or read-only)."""


def hub_key(engine: sa.Engine, name: str) -> bytes:
    """The 32-byte key `name` of this store, created on first use; kept in memory once read."""
    cache_key = (engine.url.render_as_string(hide_password=False), name)
    found = _cache.get(cache_key)
    if found is not None:
        return found
    with _lock:
        found = _cache.get(cache_key)
        if found is None:
            found = _cache[cache_key] = _load_or_create(engine, name)
    return found


def _load_or_create(engine: sa.Engine, name: str) -> bytes:
    try:
        with engine.begin() as connection:
            key = _read(connection, name)
            if key is None:
                dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
                statement = dialect.insert(hub_secret).on_conflict_do_nothing()
                connection.execute(
                    statement.values(name=name, value=secrets.token_hex(32), updated_at=datetime.now(UTC))
                )
                key = _read(connection, name)
    except sa.exc.SQLAlchemyError as error:
        raise HubKeyUnavailable(f"the hub key {name!r} could not be read: {type(error).__name__}") from error
    if key is None:  # pragma: no cover - the row was just inserted, or was there already
        raise HubKeyUnavailable(f"the hub key {name!r} could not be created")
    return key


def _read(connection: sa.Connection, name: str) -> bytes | None:
    value = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == name)).scalar()
    return bytes.fromhex(value) if value is not None else None
