"""The hub's keys: one per name, made once per store, the same for every worker."""

from __future__ import annotations

import sqlalchemy as sa

from auth import hub_keys
from auth.tables import hub_secret


def test_a_key_is_made_once_and_read_back_by_another_worker(engine: sa.Engine, store_url: str) -> None:
    # given a fresh store, when one worker asks for a key and another worker (its own engine) asks again
    first = hub_keys.hub_key(engine, hub_keys.CURSOR_KEY)
    hub_keys._cache.clear()
    other = sa.create_engine(engine.url)
    try:
        second = hub_keys.hub_key(other, hub_keys.CURSOR_KEY)
    finally:
        other.dispose()
    # then both have the same 32 bytes, stored in one row
    assert first == second and len(first) == 32
    with engine.connect() as connection:
        rows = connection.execute(sa.select(hub_secret.c.name).where(hub_secret.c.name == "cursor-key")).all()
    assert len(rows) == 1


def test_each_use_has_a_key_of_its_own(engine: sa.Engine) -> None:
    keys = {name: hub_keys.hub_key(engine, name) for name in (hub_keys.CURSOR_KEY, hub_keys.DOCUMENT_KEY)}
    assert keys[hub_keys.CURSOR_KEY] != keys[hub_keys.DOCUMENT_KEY]
