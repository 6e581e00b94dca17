"""The console over HTTP, on SQLite and PostgreSQL: the tiny world, the demo policy and a hub around it.

One store and one app per test module and backend (building them costs seconds); each test gets the hub
with no cookies, and adds people under names of its own, so tests do not see each other's sessions.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.conftest import BACKENDS

_addresses = itertools.count(1)


@dataclass
class Hub:
    url: str
    engine: sa.Engine
    http: TestClient

    def browser_at(self, address: str) -> TestClient:
        """Another browser, from another address (the sign-in's lockout counts per name and per address)."""
        return TestClient(self.http.app, client=(address, 50000))


@pytest.fixture(scope="module", params=BACKENDS)
def _served(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("console")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(url, engine, http)


@pytest.fixture
def hub(_served: Hub) -> Hub:
    _served.http.cookies.clear()
    return _served


@pytest.fixture
def address() -> str:
    """An address no other test signs in from."""
    return f"192.0.2.{next(_addresses)}"
