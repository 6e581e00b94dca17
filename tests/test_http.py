"""The hub over HTTP: the household picture end to end, entry points, errors, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx2
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import apply_demo_policy, post, register, token
from tests.schema.documents import HOUSEHOLD_PICTURE, HOUSEHOLDS, PERSON
from tests.world import LARGE, LARGE_MEMBERS, SMALL, SMALL_HEAD, write_world


@pytest.fixture
def world_url(store_url: str, engine: sa.Engine, tmp_path: Path) -> str:
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    return store_url


@pytest.fixture
def client(world_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=world_url), open_access=True)) as client:
        yield client


def _post(client: TestClient | httpx2.Client, document: str, **variables: object) -> dict:
    response = client.post("/graphql", json={"query": document, "variables": variables})
    assert response.status_code == 200, response.text
    return response.json()


def test_household_picture_end_to_end(client: TestClient) -> None:
    # when the whole picture of the 8-person household is asked for
    body = _post(client, HOUSEHOLD_PICTURE, householdNumber=LARGE)
    # then every member is there with every department's records, codes as readable enums
    assert "errors" not in body
    household = body["data"]["household"]
    assert household["residenceKind"] == "URBAN"
    assert household["poverty"]["registeredPoor"]["liftedYear"] == 2019
    assert household["poverty"]["monitoring"][0]["riskCauses"] == ["ILLNESS", "EPIDEMIC"]
    members = {member["idNumber"]: member for member in household["members"]}
    assert list(members)[0] == LARGE_MEMBERS[0][0]  # head first
    grandfather = members[LARGE_MEMBERS[2][0]]
    assert grandfather["disability"]["certificate"] == {
        "certificateNumber": LARGE_MEMBERS[2][0] + "42",
        "category": "PHYSICAL",
        "grade": 2,
        "issuedOn": "2021-06-01",
        "validUntil": "2031-05-31",
    }
    assert [d["coverage"] for d in grandfather["civilAffairs"]["dibao"]] == ["SINGLE_PERSON"]
    assert members[LARGE_MEMBERS[0][0]]["medical"]["settlements"][0]["outOfPocket"] == "150.00"
    student = members[LARGE_MEMBERS[5][0]]
    assert student["education"]["enrolments"][0]["stage"] == "JUNIOR_SECONDARY"
    assert student["education"]["aid"][0]["programme"] == "LIVING_SUBSIDY"
    # and every record says its source department and as-of time
    assert household["civilAffairs"]["dibao"][0]["source"]["department"] == "civil_affairs"
    assert grandfather["source"]["asOf"].endswith("+00:00")


def test_person_is_found_by_its_legacy_15_digit_id(client: TestClient) -> None:
    legacy = SMALL_HEAD[:6] + SMALL_HEAD[8:17]
    body = _post(client, PERSON, idNumber=legacy)
    person = body["data"]["person"]
    assert person["idNumber"] == SMALL_HEAD
    assert person["householdNumber"] == SMALL
    assert person["medical"]["settlements"][0]["outOfPocket"] == "1322.00"


def test_invalid_id_is_bad_user_input_saying_why(client: TestClient) -> None:
    body = _post(client, PERSON, idNumber=SMALL_HEAD[:17] + ("0" if SMALL_HEAD[17] != "0" else "1"))
    assert body["data"]["person"] is None
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert "check character" in body["errors"][0]["message"]


def test_unknown_household_is_null_not_an_error(client: TestClient) -> None:
    body = _post(client, HOUSEHOLD_PICTURE, householdNumber="350583999999")
    assert body == {"data": {"household": None}}


def test_households_connection_pages_through_a_region(client: TestClient) -> None:
    # when a region is walked one household per page
    seen, after = [], None
    while True:
        page = _post(client, HOUSEHOLDS, region="350583", first=1, after=after)["data"]["households"]
        seen += [edge["node"]["householdNumber"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    # then every household came once, in order, and the total matches
    assert seen == [SMALL, LARGE]
    assert page["totalCount"] == 2
    # and another region has none
    assert _post(client, HOUSEHOLDS, region="350502")["data"]["households"]["totalCount"] == 0


@pytest.mark.parametrize(
    ("variables", "fault"),
    [
        ({"region": "35x"}, "region"),
        ({"region": "3505", "first": 1000}, "first"),
        ({"region": "3505", "after": "zz"}, "after"),
    ],
)
def test_bad_connection_arguments_are_refused_saying_which(client: TestClient, variables: dict, fault: str) -> None:
    body = client.post("/graphql", json={"query": HOUSEHOLDS, "variables": variables}).json()
    assert body["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"
    assert body["errors"][0]["message"].startswith(fault)


def test_queries_only_by_post(client: TestClient) -> None:
    assert client.get("/graphql", params={"query": "{ __typename }"}).status_code == 405
    assert client.get("/healthz").json() == {"status": "ok"}


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_serve_runs_a_real_secured_server_on_loopback(world_url: str, engine: sa.Engine) -> None:
    # given a store with the demo policy and a client, and `aidgraph serve` started as a process on it
    apply_demo_policy(engine)
    secret = register(engine, "civil-test", roles=["civil-affairs"], purposes=["assistance-review"])
    port = _free_port()
    env = {**os.environ, "AIDGRAPH_DATABASE_URL": world_url}
    command = [sys.executable, "-m", "aidgraph.cli", "serve", "--port", str(port)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        with httpx2.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            # A process starting on a busy machine may take a while: wait for it, up to a minute.
            deadline = time.monotonic() + 60
            while True:
                try:
                    http.get("/healthz")
                    break
                except httpx2.TransportError:
                    if time.monotonic() > deadline or server.poll() is not None:
                        raise
                    time.sleep(0.1)
            # when a token is asked for and the household picture asked with it, over real HTTP
            anonymous = post(http, HOUSEHOLD_PICTURE, None, status=401, householdNumber=SMALL)
            bearer = token(http, "civil-test", secret)
            body = post(http, HOUSEHOLD_PICTURE, bearer, householdNumber=SMALL)
    finally:
        server.terminate()
        output, _ = server.communicate(timeout=10)
    # then without a token it is refused, with one the answer is complete; the server said where tokens are
    assert anonymous["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert [m["name"] for m in body["data"]["household"]["members"]] == ["欧阳明", "李芳"]
    assert "POST /oauth/token" in output


def test_serve_refuses_a_public_address() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "aidgraph.cli", "serve", "--host", "0.0.0.0"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "refusing to bind 0.0.0.0" in result.stderr
    assert "https://" in result.stderr


@pytest.mark.parametrize(
    ("content", "headers", "status", "says"),
    [
        ("{ __typename }", {"Content-Type": "application/graphql"}, 415, "JSON body"),
        ("{not json", {"Content-Type": "application/json"}, 400, "not valid JSON"),
        ('{"variables": {}}', {"Content-Type": "application/json"}, 400, '"query" string'),
        ('{"query": "{ __typename }", "variables": [1]}', {"Content-Type": "application/json"}, 400, '"variables"'),
    ],
)
def test_malformed_requests_are_refused_saying_what_is_wrong(
    client: TestClient, content: str, headers: dict, status: int, says: str
) -> None:
    response = client.post("/graphql", content=content, headers=headers)
    assert response.status_code == status
    assert says in response.json()["errors"][0]["message"]


def test_graphql_syntax_error_names_the_place(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": "{ household(householdNumber: ) { address } }"}).json()
    assert "data" not in body  # a request error: nothing was executed
    assert body["errors"][0]["locations"] == [{"line": 1, "column": 30}]
