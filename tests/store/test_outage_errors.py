"""Which store errors are the store being away (a 503 to try again), and which are a statement's own failure."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from adapters.outage import store_unavailable
from adapters.sources import SourceUnavailable
from aidgraph.db import create_engine
from tools.pgserver import ThrowawayPostgres, _free_port


@pytest.fixture
def admin_engine(postgres: ThrowawayPostgres) -> Iterator[sa.Engine]:
    engine = create_engine(postgres.admin_url)
    yield engine
    engine.dispose()


@pytest.fixture
def nobody_engine() -> Iterator[sa.Engine]:
    """An engine on a port where no server listens."""
    engine = create_engine(f"postgresql://nobody@127.0.0.1:{_free_port()}/none")
    yield engine
    engine.dispose()


def _raised(engine: sa.Engine, statement: str) -> BaseException:
    with pytest.raises(sa.exc.DBAPIError) as raised, engine.connect() as connection:
        connection.execute(sa.text(statement))
    return raised.value


def test_a_store_nobody_listens_on_is_unavailable(nobody_engine: sa.Engine) -> None:
    # when a connection is asked for where nobody listens, then the error it raises is the store being away
    assert store_unavailable(_raised(nobody_engine, "SELECT 1"))


def test_a_session_the_server_ends_is_unavailable(admin_engine: sa.Engine) -> None:
    # given a session that the server is told to end (what a restart does to every session)
    # when it runs a statement that ends itself, then its error is the store being away, bare and wrapped
    error = _raised(admin_engine, "SELECT pg_terminate_backend(pg_backend_pid())")
    assert store_unavailable(error) and store_unavailable(error.orig)


@pytest.mark.parametrize(
    "statement",
    [
        "SET statement_timeout = 1; SELECT pg_sleep(1)",  # a statement cancelled by its timeout
        "SELECT 1/0",
        "SELECT * FROM no_such_table",
    ],
)
def test_a_statement_that_fails_on_its_own_is_not_an_outage(admin_engine: sa.Engine, statement: str) -> None:
    assert not store_unavailable(_raised(admin_engine, statement))


def test_a_department_source_that_is_away_is_not_the_store(nobody_engine: sa.Engine) -> None:
    # given a live department's failure, caused by its database refusing connections
    cause = _raised(nobody_engine, "SELECT 1")
    failure = SourceUnavailable("medical", "connection refused")
    failure.__cause__ = cause
    # then it fails that department's fields, not the request: it is no outage of the hub's store
    assert store_unavailable(cause) and not store_unavailable(failure)
