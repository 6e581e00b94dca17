"""The console over HTTP, on SQLite and PostgreSQL: the tiny world, the demo policy and a hub around it."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.conftest import BACKENDS


@dataclass
class Hub:
    url: str
    engine: sa.Engine
    http: TestClient


@pytest.fixture(params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Hub]:
    with world_store(request, tmp_path) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(url, engine, http)
