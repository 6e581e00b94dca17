"""The secured /graphql as the GraphQL over HTTP spec has it: media types, request errors, error codes, inputs.

Every test runs on SQLite and PostgreSQL, with a demo client of the civil-affairs role.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx2
import pytest
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub

MALFORMED_HOUSEHOLD = '{ household(householdNumber: "35 05") { address } }'
PERSON_ID = 'query Malformed { person(idNumber: "x") { name } }'


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("over-http")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


def _ask(hub: Hub, query: str, *, accept: str | None = None, **body: Any) -> httpx2.Response:
    headers = {"Authorization": f"Bearer {hub.as_role('civil-affairs', 'assistance-review')}"}
    if accept is not None:
        headers["Accept"] = accept
    return hub.http.post("/graphql", json={"query": query, **body}, headers=headers)


def test_a_malformed_household_number_is_bad_user_input_like_a_malformed_id(hub: Hub) -> None:
    # when a household is asked for by a number outside the departments' format, and a person by a bad id
    household = _ask(hub, MALFORMED_HOUSEHOLD).json()
    person = _ask(hub, PERSON_ID).json()
    # then both are BAD_USER_INPUT naming the argument, and nothing is answered for either
    assert household["data"] == {"household": None}
    [error] = household["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["message"].startswith("householdNumber: '35 05' is not a household number")
    assert person["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
