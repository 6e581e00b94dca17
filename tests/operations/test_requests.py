"""Requests by a registered operation's id: `documentId` and Apollo's persisted query, for its clients only.

Every test runs on SQLite and PostgreSQL, through the secured hub on the tiny world.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from typing import Any

import httpx2
import orjson
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.logs import JsonLines
from aidgraph.settings import Settings
from registered.operations import add_operations, remove_operation
from registered.served import RegisteredOperations
from registered.tables import registered_operation
from schema import create_schema
from tests.access import world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.world import SMALL

ADDRESS = "query HouseholdAddress($n: String!) { household(householdNumber: $n) { address } }"
ADDRESS_TEXT = "query HouseholdAddress($n: String!) {\n  household(householdNumber: $n) {\n    address\n  }\n}"
MEMBERS = "query Members($n: String!) { household(householdNumber: $n) { members { name } } }"
UNREGISTERED = "query Unregistered($n: String!) { household(householdNumber: $n) { address regionCode } }"
NEVER_REGISTERED = "sha256:" + "ab" * 32
ROLE, PURPOSE = "civil-affairs", "assistance-review"


class Clock:
    """The registered operations' clock, moved by the test: the list is read again once `ttl` has passed."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


class Registry(Hub):
    """The secured hub, its registered operations on a clock of the test's."""

    def __init__(self, http: TestClient, engine: Any, clock: Clock) -> None:
        super().__init__(http, engine)
        self.clock = clock

    def caught_up(self) -> None:
        """As if 5 s had passed: every worker has read the registered operations again."""
        self.clock.now += 5.0

    def ask(self, bearer: str, body: dict[str, Any], **headers: str) -> httpx2.Response:
        return self.http.post("/graphql", json=body, headers={"Authorization": f"Bearer {bearer}", **headers})


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Registry]:
    with world_store(request, tmp_path_factory.mktemp("registered")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            clock = Clock()
            # the worker's registered operations, on the test's clock (the app's own reads them every 5 s)
            http.app_state["registered"] = RegisteredOperations(engine, create_schema(), clock=clock)
            yield Registry(http, engine, clock)


def _register(hub: Registry, text: str, *, client_id: str | None = None) -> str:
    [added] = add_operations(hub.engine, text, client_id=client_id, by="admin-wang")
    hub.caught_up()
    return added.document_id


def _apq(document_id: str) -> dict[str, Any]:
    return {"persistedQuery": {"version": 1, "sha256Hash": document_id.removeprefix("sha256:")}}


def _code(response: httpx2.Response) -> str:
    return str(response.json()["errors"][0]["extensions"]["code"])


def test_a_documentid_runs_its_registered_text_as_the_text_itself_runs(hub: Registry) -> None:
    # given a registered operation, and a client
    document_id = _register(hub, ADDRESS)
    assert document_id == "sha256:" + hashlib.sha256(ADDRESS_TEXT.encode()).hexdigest()
    bearer = hub.as_role(ROLE, PURPOSE)
    # when the client sends its id, then its text in full
    by_id = hub.ask(bearer, {"documentId": document_id, "variables": {"n": SMALL}})
    by_text = hub.ask(bearer, {"query": ADDRESS, "variables": {"n": SMALL}})
    # then both are answered alike
    assert by_id.status_code == 200
    assert by_id.json() == by_text.json()
    assert by_id.json()["data"]["household"]["address"]


def test_apollos_persisted_query_shape_runs_it_too(hub: Registry) -> None:
    # given a registered operation
    document_id = _register(hub, MEMBERS)
    # when a client sends Apollo's extension with the operation's hash
    response = hub.ask(hub.as_role(ROLE, PURPOSE), {"extensions": _apq(document_id), "variables": {"n": SMALL}})
    # then the operation runs
    assert response.status_code == 200
    assert len(response.json()["data"]["household"]["members"]) == 2


def test_the_audit_event_of_a_registered_operation_names_its_id_beside_the_keyed_hash(hub: Registry) -> None:
    # given a registered operation that reads personal data
    document_id = _register(hub, MEMBERS)
    bearer = hub.as_role(ROLE, PURPOSE)
    # when it is run by id, then as text
    hub.ask(bearer, {"documentId": document_id, "variables": {"n": SMALL}})
    hub.ask(bearer, {"query": MEMBERS.replace("Members", "Others"), "variables": {"n": SMALL}})
    by_id, by_text = hub.events()[-2:]
    # then the id's event names the registered operation; the text's does not
    assert by_id["operation"] == "Members"
    assert f"registered operation {document_id}" in by_id["detail"]
    assert "registered operation" not in (by_text["detail"] or "")
    # and the document hash is still keyed (HMAC), not the plain SHA-256 the id is
    assert by_id["document_hash"].startswith("hmac-sha256:")
    assert document_id.removeprefix("sha256:") not in by_id["document_hash"]


def test_the_access_line_of_a_registered_operation_names_its_id_beside_the_keyed_hash(
    hub: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    # given a registered operation
    document_id = _register(hub, ADDRESS.replace("HouseholdAddress", "Logged"))
    bearer = hub.as_role(ROLE, PURPOSE)
    caplog.set_level(logging.INFO, logger="aidgraph.access")
    caplog.clear()
    # when it is run by id
    hub.ask(bearer, {"documentId": document_id, "variables": {"n": SMALL}})
    # then its access line carries the id, the operation and the keyed document hash, never the text
    [access] = [record for record in caplog.records if record.name == "aidgraph.access"]
    line = orjson.loads(JsonLines().format(access))
    assert (line["document_id"], line["operation"]) == (document_id, "Logged")
    assert line["document"].startswith("hmac-sha256:")
    assert "householdNumber" not in JsonLines().format(access)


def test_an_unknown_id_is_refused_with_its_shapes_code_and_nothing_runs(hub: Registry) -> None:
    bearer = hub.as_role(ROLE, PURPOSE)
    # when ids never registered are sent in either shape
    by_document_id = hub.ask(bearer, {"documentId": NEVER_REGISTERED, "variables": {"n": SMALL}})
    by_apq = hub.ask(bearer, {"extensions": _apq(NEVER_REGISTERED), "variables": {"n": SMALL}})
    # then each is refused with its code, and no data
    assert (by_document_id.status_code, _code(by_document_id)) == (200, "PERSISTED_DOCUMENT_NOT_FOUND")
    assert (by_apq.status_code, _code(by_apq)) == (200, "PERSISTED_QUERY_NOT_FOUND")
    assert by_apq.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert "data" not in by_document_id.json() and "data" not in by_apq.json()
    # and in the spec's own media type it is a request error, 400
    strict = hub.ask(bearer, {"documentId": NEVER_REGISTERED}, Accept="application/graphql-response+json")
    assert (strict.status_code, _code(strict)) == (400, "PERSISTED_DOCUMENT_NOT_FOUND")


def test_apqs_retry_with_the_text_runs_it_and_registers_nothing(hub: Registry) -> None:
    # given an operation nobody registered, which an Apollo client sends by hash first
    digest = "sha256:" + hashlib.sha256(UNREGISTERED.encode()).hexdigest()
    bearer = hub.as_role(ROLE, PURPOSE)
    assert (
        _code(hub.ask(bearer, {"extensions": _apq(digest), "variables": {"n": SMALL}})) == "PERSISTED_QUERY_NOT_FOUND"
    )
    # when it retries with the text and the hash, as Apollo's clients do
    retried = hub.ask(bearer, {"query": UNREGISTERED, "extensions": _apq(digest), "variables": {"n": SMALL}})
    # then the text runs (unregistered text is allowed for this client), and the hash is still unknown after
    assert retried.json()["data"]["household"]["address"]
    for _ in ("at once", "and once the worker has read the registered operations again"):
        again = hub.ask(bearer, {"extensions": _apq(digest), "variables": {"n": SMALL}})
        assert _code(again) == "PERSISTED_QUERY_NOT_FOUND"
        hub.caught_up()
    with hub.engine.connect() as connection:
        assert connection.execute(sa.select(registered_operation.c.document_id)).scalars().all().count(digest) == 0


def test_a_text_that_is_not_its_ids_document_is_refused(hub: Registry) -> None:
    # given a registered operation
    document_id = _register(hub, ADDRESS)
    bearer = hub.as_role(ROLE, PURPOSE)
    # when its id is sent with another text, in either shape
    for body in (
        {"documentId": document_id, "query": MEMBERS},
        {"extensions": _apq(document_id), "query": MEMBERS},
    ):
        response = hub.ask(bearer, {**body, "variables": {"n": SMALL}})
        # then it is refused, and nothing runs
        assert (response.status_code, _code(response)) == (400, "BAD_REQUEST")
        assert "SHA-256 differs" in response.json()["errors"][0]["message"]


def test_a_malformed_id_is_a_bad_request(hub: Registry) -> None:
    bearer = hub.as_role(ROLE, PURPOSE)
    for body in (
        {"documentId": "HouseholdAddress"},
        {"documentId": "sha256:" + "AB" * 32},
        {"extensions": {"persistedQuery": {"version": 2, "sha256Hash": "ab" * 32}}},
        {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": "xyz"}}},
        {"documentId": NEVER_REGISTERED, "extensions": _apq("sha256:" + "cd" * 32)},
        {"variables": {"n": SMALL}},
    ):
        response = hub.ask(bearer, body)
        assert (response.status_code, _code(response)) == (400, "BAD_REQUEST"), body


def test_a_client_bound_id_is_answered_to_others_exactly_as_an_unknown_one(hub: Registry) -> None:
    # given an operation registered for one client only
    own = hub.client("housing-own", roles=[ROLE], purposes=[PURPOSE])
    other = hub.as_role(ROLE, PURPOSE)
    document_id = _register(hub, ADDRESS.replace("HouseholdAddress", "OwnAddress"), client_id=own)
    # when its client sends its id, then another client does, and sends an id never registered
    mine = hub.ask(hub.token(own), {"documentId": document_id, "variables": {"n": SMALL}})
    theirs = hub.ask(other, {"documentId": document_id, "variables": {"n": SMALL}})
    unknown = hub.ask(other, {"documentId": NEVER_REGISTERED, "variables": {"n": SMALL}})
    # then its client is answered; to the other its id is exactly an unknown one, but for the id it sent
    assert mine.json()["data"]["household"]["address"]
    assert theirs.status_code == unknown.status_code
    assert theirs.json() == {
        "errors": [
            {
                "message": unknown.json()["errors"][0]["message"].replace(NEVER_REGISTERED, document_id),
                "extensions": {"code": "PERSISTED_DOCUMENT_NOT_FOUND"},
            }
        ]
    }
    # and in Apollo's shape too
    apq = hub.ask(other, {"extensions": _apq(document_id), "variables": {"n": SMALL}})
    assert apq.json() == hub.ask(other, {"extensions": _apq(NEVER_REGISTERED)}).json()


def test_another_clients_mutation_id_is_unknown_before_anything_else_is_asked_of_it(hub: Registry) -> None:
    # given a mutation registered for one client only (a mutation needs X-Actor: a refusal that would tell)
    own = hub.client("casework-own", roles=[ROLE], purposes=["case-management"])
    mutation = 'mutation CloseOwn($id: ID!, $v: Int!) { updateAlert(id: $id, status: "CLOSED", version: $v) { id } }'
    document_id = _register(hub, mutation, client_id=own)
    variables = {"id": "1", "v": 1}
    # when another client sends its id without X-Actor, then it is unknown, not a mutation lacking its actor
    other = hub.as_role(ROLE, "case-management")
    theirs = hub.ask(other, {"documentId": document_id, "variables": variables})
    assert _code(theirs) == "PERSISTED_DOCUMENT_NOT_FOUND"
    # while to its own client it is the mutation, which needs its actor
    mine = hub.ask(hub.token(own), {"documentId": document_id, "variables": variables})
    assert (mine.status_code, _code(mine)) == (400, "ACTOR_REQUIRED")


def test_a_removed_operation_is_refused_once_the_worker_has_caught_up(hub: Registry) -> None:
    # given a registered operation that is served
    document_id = _register(hub, ADDRESS.replace("HouseholdAddress", "SoonRemoved"))
    bearer = hub.as_role(ROLE, PURPOSE)
    assert hub.ask(bearer, {"documentId": document_id, "variables": {"n": SMALL}}).json()["data"]
    # when it is removed, and the worker's few seconds have passed
    remove_operation(hub.engine, document_id, by="admin-wang")
    hub.caught_up()
    # then its id is unknown
    assert _code(hub.ask(bearer, {"documentId": document_id, "variables": {"n": SMALL}})) == (
        "PERSISTED_DOCUMENT_NOT_FOUND"
    )
