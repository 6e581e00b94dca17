"""When a pooled PostgreSQL connection is tried before a request gets it (aidgraph/db.py `_ping_if_idle`).

A connection is tried only when it may be dead: its socket holds the server's goodbye, or it rested
long. Either way the request then gets a live connection, and the try leaves nothing behind it.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import count

import pytest
import sqlalchemy as sa

from aidgraph import db
from tools.pgserver import ThrowawayPostgres

_numbers = count()


@pytest.fixture
def engine(postgres: ThrowawayPostgres) -> Iterator[sa.Engine]:
    made = db.create_engine(postgres.create_database(f"ping_{next(_numbers)}"), pool_size=1, max_overflow=0)
    yield made
    made.dispose()


def _read(engine: sa.Engine) -> int:
    """One read as a request makes it: autocommit, as `RequestConnection` asks."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        return int(connection.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def test_a_connection_tried_after_its_rest_serves_the_next_request_as_usual(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a pool whose connections are always tried (every rest counts as long)
    monkeypatch.setattr(db, "IDLE_BEFORE_PING", 0.0)
    first = _read(engine)
    # when the next request checks the same connection out, tried first
    second = _read(engine)
    # then it is the same live connection, in no transaction the try left open (autocommit could be set)
    assert second == first


def test_a_connection_the_server_ended_is_replaced_before_a_request_gets_it(engine: sa.Engine) -> None:
    # given a pooled connection that has just served a request
    first = _read(engine)
    # when the server ends it (as a restart does to every session), between requests
    outside = sa.create_engine(engine.url, poolclass=sa.pool.NullPool)
    with outside.connect() as other:
        assert other.execute(sa.text("SELECT pg_terminate_backend(:pid)"), {"pid": first}).scalar_one()
    outside.dispose()
    # then the next request is answered, on a new connection: the old one's socket said goodbye
    assert _read(engine) != first
