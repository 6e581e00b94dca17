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
from tests.world import SMALL

MALFORMED_HOUSEHOLD = '{ household(householdNumber: "35 05") { address } }'
PERSON_ID = 'query Malformed { person(idNumber: "x") { name } }'
ADDRESS = f'{{ household(householdNumber: "{SMALL}") {{ address }} }}'
SYNTAX_ERROR = "{ household(householdNumber: ) { address } }"
UNKNOWN_FIELD = f'{{ household(householdNumber: "{SMALL}") {{ adress }} }}'
MISSING_VARIABLE = "query Needs($n: String!) { household(householdNumber: $n) { address } }"
ALIASES = " ".join(f"a{i}: address" for i in range(31))
TOO_MANY_ALIASES = f'{{ household(householdNumber: "{SMALL}") {{ {ALIASES} }} }}'
TWO_OPERATIONS = f"query First {ADDRESS} query Second {ADDRESS}"
JSON = "application/json"
GRAPHQL_RESPONSE = "application/graphql-response+json"


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


@pytest.mark.parametrize(
    ("accept", "answered_as"),
    [
        (None, JSON),
        ("*/*", JSON),
        (JSON, JSON),
        (GRAPHQL_RESPONSE, GRAPHQL_RESPONSE),
        (f"{GRAPHQL_RESPONSE}, {JSON}", GRAPHQL_RESPONSE),
        (f"{JSON}; q=0.5, {GRAPHQL_RESPONSE}", GRAPHQL_RESPONSE),
        (f"text/html, {JSON}; q=0.9", JSON),
    ],
)
def test_the_answer_is_in_the_media_type_accept_prefers(hub: Hub, accept: str | None, answered_as: str) -> None:
    # when a household's address is asked for, accepting these media types
    response = _ask(hub, ADDRESS, accept=accept)
    # then it is answered in the one preferred that the hub gives, in UTF-8
    assert response.status_code == 200
    assert response.headers["content-type"] == f"{answered_as}; charset=utf-8"
    assert response.json()["data"]["household"]["address"]


def test_accepting_only_what_the_hub_cannot_give_is_406_as_json(hub: Hub) -> None:
    # when the only media types accepted are neither of the hub's
    response = _ask(hub, ADDRESS, accept="text/html, application/xml")
    # then nothing is executed and the refusal says why, as JSON
    assert response.status_code == 406
    assert response.headers["content-type"].startswith(JSON)
    body = response.json()
    assert "data" not in body
    assert body["errors"][0]["extensions"]["code"] == "NOT_ACCEPTABLE"


@pytest.mark.parametrize(("accept", "status"), [(None, 200), (JSON, 200), (GRAPHQL_RESPONSE, 400)])
@pytest.mark.parametrize(
    ("document", "code"),
    [
        (SYNTAX_ERROR, "GRAPHQL_PARSE_FAILED"),
        (UNKNOWN_FIELD, "GRAPHQL_VALIDATION_FAILED"),
        (TOO_MANY_ALIASES, "QUERY_TOO_COMPLEX"),
    ],
    ids=["parse", "validation", "limits"],
)
def test_a_document_that_does_not_parse_or_validate_is_a_request_error(
    hub: Hub, document: str, code: str, accept: str | None, status: int
) -> None:
    # when a document is sent that does not parse, names an unknown field, or is over a limit
    response = _ask(hub, document, accept=accept)
    # then it is 400 in the spec's media type and 200 in plain JSON, saying which, with no data
    assert response.status_code == status
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == [code]


@pytest.mark.parametrize(("accept", "status"), [(None, 200), (JSON, 200), (GRAPHQL_RESPONSE, 400)])
@pytest.mark.parametrize(
    ("document", "operation_name"),
    [(ADDRESS, "Elsewhere"), (TWO_OPERATIONS, None), (TWO_OPERATIONS, "Third")],
    ids=["unknown name", "several operations, no name", "several operations, unknown name"],
)
def test_an_operation_that_cannot_be_chosen_is_a_request_error(
    hub: Hub, document: str, operation_name: str | None, accept: str | None, status: int
) -> None:
    # when the operation to run cannot be told from the document and the operation name
    response = _ask(hub, document, accept=accept, operationName=operation_name)
    # then none is run: a JSON error, no data, 400 in the spec's media type and 200 in plain JSON
    assert response.status_code == status
    body = response.json()
    assert "data" not in body
    assert [error["extensions"]["code"] for error in body["errors"]] == ["BAD_REQUEST"]


def test_the_named_one_of_several_operations_is_run(hub: Hub) -> None:
    body = _ask(hub, TWO_OPERATIONS, accept=GRAPHQL_RESPONSE, operationName="Second").json()
    assert body["data"]["household"]["address"]


@pytest.mark.parametrize(("accept", "status"), [(JSON, 200), (GRAPHQL_RESPONSE, 400)])
def test_a_missing_variable_is_a_request_error(hub: Hub, accept: str, status: int) -> None:
    response = _ask(hub, MISSING_VARIABLE, accept=accept)
    assert response.status_code == status
    assert "data" not in response.json()


def test_a_field_error_is_200_with_its_data_in_the_spec_media_type_too(hub: Hub) -> None:
    # when a document that validates fails in a field (a malformed household number)
    response = _ask(hub, MALFORMED_HOUSEHOLD, accept=GRAPHQL_RESPONSE)
    # then it was executed: 200, the data beside the error
    assert response.status_code == 200
    assert response.json()["data"] == {"household": None}


@pytest.mark.parametrize("extensions", ["string", 7, True, ["a"]])
def test_extensions_that_are_not_a_map_are_a_bad_request(hub: Hub, extensions: object) -> None:
    # when a request's extensions are a string, a number, a boolean or a list
    response = _ask(hub, ADDRESS, extensions=extensions)
    # then nothing is executed and the refusal names the member
    assert response.status_code == 400
    assert response.json() == {
        "errors": [{"message": '"extensions" must be a JSON object', "extensions": {"code": "BAD_REQUEST"}}]
    }


def test_extensions_that_are_a_map_are_accepted_and_ignored(hub: Hub) -> None:
    # when a request carries a map of extensions the hub does not know
    response = _ask(hub, ADDRESS, extensions={"tracing": True})
    # then it is answered as without them
    assert response.status_code == 200
    assert response.json()["data"]["household"]["address"]
