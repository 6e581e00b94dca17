"""A hub checks every registered operation when it starts: a stale one is logged and not served, the hub runs on.

Every test runs on SQLite and PostgreSQL, through the secured hub on the tiny world.
"""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.clients import register_client
from registered.operations import add_operations
from tests.access import token, world_store
from tests.conftest import BACKENDS
from tests.operations.test_registry import insert_stale
from tests.world import SMALL

ADDRESS = "query StillFine($n: String!) { household(householdNumber: $n) { address } }"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> pytest.FixtureRequest:
    """The request of a fixture parametrised by backend, as `world_store` takes it."""
    return request


def test_a_stale_operation_is_logged_and_not_served_while_the_others_are(
    backend: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, caplog: pytest.LogCaptureFixture
) -> None:
    with world_store(backend, tmp_path_factory.mktemp("startup")) as (url, engine):
        # given a store holding an operation this schema no longer validates, and one it does
        stale = insert_stale(engine)
        [fine] = add_operations(engine, ADDRESS, by="admin-wang")
        _, secret = register_client(
            engine,
            client_id="startup-system",
            department="tests",
            roles=["civil-affairs"],
            regions=["3505"],
            purposes=["assistance-review"],
        )
        caplog.set_level(logging.INFO, logger="registered.served")
        # when the hub starts
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            # then the stale one is reported by id and name, once
            reported = [record.getMessage() for record in caplog.records if record.name == "registered.served"]
            assert len(reported) == 1
            assert stale in reported[0] and "(Retired)" in reported[0] and "is not served" in reported[0]
            assert "retiredField" not in reported[0]  # the problems stay out of the log: messages may quote values
            # and its id is answered as unknown, while the other operation and any text are served
            bearer = {"Authorization": f"Bearer {token(http, 'startup-system', secret)}"}
            refused = http.post("/graphql", json={"documentId": stale}, headers=bearer)
            assert refused.json()["errors"][0]["extensions"]["code"] == "PERSISTED_DOCUMENT_NOT_FOUND"
            served = http.post(
                "/graphql", json={"documentId": fine.document_id, "variables": {"n": SMALL}}, headers=bearer
            )
            assert served.json()["data"]["household"]["address"]
            assert http.get("/healthz").status_code == 200
