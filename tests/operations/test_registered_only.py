"""Registered operations only: for one client (its registration), or for every client (the hub's setting).

Every test runs on SQLite and PostgreSQL, through the secured hub on the tiny world.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.clients import register_client, set_registered_only
from registered.operations import add_operations
from tests.access import token, world_store
from tests.conftest import BACKENDS
from tests.world import SMALL

ADDRESS = "query RestrictedAddress($n: String!) { household(householdNumber: $n) { address } }"
ADDRESS_TEXT = "query RestrictedAddress($n: String!) {\n  household(householdNumber: $n) {\n    address\n  }\n}"
UNREGISTERED = "query Anything($n: String!) { household(householdNumber: $n) { address regionCode } }"
ROLE, PURPOSE = "civil-affairs", "assistance-review"


@pytest.fixture(scope="module", params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, sa.Engine]]:
    """A world store holding one registered operation, and three clients: open, restricted, restricted later."""
    with world_store(request, tmp_path_factory.mktemp("registered-only")) as (url, engine):
        add_operations(engine, ADDRESS, by="admin-wang")
        yield url, engine


def _client(engine: sa.Engine, client_id: str, *, registered_only: bool = False) -> tuple[str, str]:
    _, secret = register_client(
        engine,
        client_id=client_id,
        department="tests",
        roles=[ROLE],
        regions=["3505"],
        purposes=[PURPOSE],
        registered_only=registered_only,
    )
    return client_id, secret


def _ask(http: TestClient, bearer: str, body: dict[str, Any]) -> httpx2.Response:
    return http.post(
        "/graphql", json={**body, "variables": {"n": SMALL}}, headers={"Authorization": f"Bearer {bearer}"}
    )


def _events(engine: sa.Engine) -> list[dict[str, Any]]:
    from auth.tables import audit_event

    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


def _document_id(engine: sa.Engine) -> str:
    [added] = add_operations(engine, ADDRESS, by="admin-wang")  # already registered: returned as it is
    return added.document_id


def test_a_restricted_client_runs_registered_operations_only(store: tuple[str, sa.Engine]) -> None:
    url, engine = store
    # given a client registered to send registered operations only, and one that is not
    restricted = _client(engine, "restricted-system", registered_only=True)
    free = _client(engine, "free-system")
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        restricted_token, free_token = token(http, *restricted), token(http, *free)
        # when the restricted client sends unregistered text
        refused = _ask(http, restricted_token, {"query": UNREGISTERED})
        # then it is refused with its code, nothing runs, and the refusal is audited
        assert refused.status_code == 403
        assert refused.json() == {
            "errors": [
                {
                    "message": "client restricted-system may run registered operations only: send its documentId",
                    "extensions": {"code": "OPERATION_NOT_REGISTERED"},
                }
            ]
        }
        last = _events(engine)[-1]
        assert (last["client_id"], last["outcome"], last["operation"]) == ("restricted-system", "refused", "Anything")
        assert last["detail"].startswith("OPERATION_NOT_REGISTERED: ")
        # and its registered operation runs, by id or as its exact text
        by_id = _ask(http, restricted_token, {"documentId": _document_id(engine)})
        as_text = _ask(http, restricted_token, {"query": ADDRESS_TEXT})
        assert by_id.json()["data"]["household"]["address"]
        assert as_text.json() == by_id.json()
        # while the other client's unregistered text runs as before
        assert _ask(http, free_token, {"query": UNREGISTERED}).json()["data"]["household"]["regionCode"]


def test_restricting_a_client_later_takes_effect_and_can_be_lifted(store: tuple[str, sa.Engine]) -> None:
    url, engine = store
    # given a client that may send any operation
    later = _client(engine, "restricted-later")
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        bearer = token(http, *later)
        assert _ask(http, bearer, {"query": UNREGISTERED}).status_code == 200
    # when it is restricted, then a hub that reads its registration anew refuses its text
    set_registered_only(engine, "restricted-later", True)
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        response = _ask(http, token(http, *later), {"query": UNREGISTERED})
        assert (response.status_code, response.json()["errors"][0]["extensions"]["code"]) == (
            403,
            "OPERATION_NOT_REGISTERED",
        )
    # and when it is lifted, its text runs again
    set_registered_only(engine, "restricted-later", False)
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        assert _ask(http, token(http, *later), {"query": UNREGISTERED}).status_code == 200


def test_the_hubs_setting_restricts_every_client(store: tuple[str, sa.Engine]) -> None:
    url, engine = store
    # given a client registered without restriction, on a hub that runs registered operations only
    anyone = _client(engine, "any-system")
    settings = Settings(database_url=url, token_rate_limit=0, registered_operations_only=True)
    with TestClient(create_app(settings)) as http:
        bearer = token(http, *anyone)
        # when it sends unregistered text, then it is refused, saying the hub's rule
        refused = _ask(http, bearer, {"query": UNREGISTERED})
        assert refused.status_code == 403
        [error] = refused.json()["errors"]
        assert error == {
            "message": "this hub runs registered operations only: send a registered operation's documentId",
            "extensions": {"code": "OPERATION_NOT_REGISTERED"},
        }
        # and a registered operation runs
        assert _ask(http, bearer, {"documentId": _document_id(engine)}).json()["data"]["household"]["address"]


def test_the_setting_is_read_from_the_environment() -> None:
    # when the variable is set, or not, then the setting follows it
    assert Settings.from_mapping({"AIDGRAPH_REGISTERED_OPERATIONS_ONLY": "1"}).registered_operations_only
    assert not Settings.from_mapping({}).registered_operations_only
