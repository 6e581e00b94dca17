"""/healthz says the worker is alive without asking the store; /readyz says the store answers and the
audit trail takes a write; on SQLite and PostgreSQL.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.tables import audit_event
from tests.conftest import BACKENDS


def _unreachable(backend: str, folder: Path) -> str:
    """A store that cannot be reached: a PostgreSQL port nobody listens on, an SQLite file in no folder."""
    if backend == "postgresql":
        return "postgresql://aidgraph@127.0.0.1:1/aidgraph"
    return f"sqlite:///{folder / 'no-such-folder' / 'store.db'}"


@pytest.mark.parametrize("backend", BACKENDS)
def test_alive_without_the_store_but_not_ready(backend: str, tmp_path: Path) -> None:
    # given a hub whose store cannot be reached
    settings = Settings(database_url=_unreachable(backend, tmp_path), deliver_webhooks=False)
    with TestClient(create_app(settings)) as http:
        # when it is asked whether it is alive, and whether it is ready
        alive, ready = http.get("/healthz"), http.get("/readyz")
    # then it is alive, and not ready, saying it is the store, and when to ask again
    assert (alive.status_code, alive.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "store": "unreachable"})
    assert ready.headers["retry-after"] == "5"


def _events(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(audit_event)).scalar_one())


def test_ready_when_the_trail_takes_a_write_and_the_probe_leaves_nothing(store_url: str, engine: sa.Engine) -> None:
    # given a hub on a migrated store, its trail empty
    with TestClient(create_app(Settings(database_url=store_url, deliver_webhooks=False))) as http:
        # when it is asked twice whether it is ready
        answers = [http.get("/readyz") for _ in range(2)]
    # then it is, and its probe left no event behind (it was rolled back)
    assert [(answer.status_code, answer.json()) for answer in answers] == [(200, {"status": "ok"})] * 2
    assert _events(engine) == 0


def test_not_ready_when_the_trail_takes_no_write(store_url: str, engine: sa.Engine) -> None:
    # given a hub whose store answers, but whose audit table is gone
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_gone"))
    with TestClient(create_app(Settings(database_url=store_url, deliver_webhooks=False))) as http:
        # when it is asked whether it is alive and whether it is ready
        alive, ready = http.get("/healthz"), http.get("/readyz")
    # then it is alive, and not ready, saying it is the audit trail
    assert alive.status_code == 200
    assert (ready.status_code, ready.json()) == (503, {"status": "unavailable", "audit": "not writable"})
