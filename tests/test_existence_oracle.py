"""Look-ups by key cannot tell a key outside the caller's regions from one never issued.

On SQLite and PostgreSQL, through the secured `/graphql`: the two answers are the same to the byte and
in their headers, each is audited (only the trail says which it was), both cost the same statements
(the record that decides where the key belongs, nothing more), and a client that misses too often is
refused with RATE_LIMITED whatever it asks next.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

import schema
from adapters.catalog import DEPARTMENTS
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.access import Access
from auth.hub_keys import AUDIT_KEY, hub_key
from auth.limiter import MissLimit
from auth.masks import pseudonym
from auth.policy import unrestricted_view
from auth.tables import audit_event
from resolvers.context import Context
from tests.access import register, token, world_store
from tests.conftest import BACKENDS
from tests.schema.test_batching import counting_statements
from tests.world import LARGE_MEMBERS, SMALL, SMALL_HEAD, make_id

PERSON = "query Person($id: String!) { person(idNumber: $id) { idNumber name household { address } } }"
HOUSEHOLD = "query Household($n: String!) { household(householdNumber: $n) { householdNumber members { name } } }"
ACCESS_LOG = "query Log($id: String!) { accessLog(idNumber: $id, first: 5) { edges { node { clientId } } } }"
NEVER_ISSUED = make_id("350583", "19900101", 98, male=True)  # valid, in the world's county, nobody has it
NEVER_ISSUED_HOUSEHOLD = "350583999999"
MISSES_PER_MINUTE = 3


class Hub:
    """A secured hub on a world store; clients of another county, to whom the whole world lies outside."""

    def __init__(self, http: TestClient, engine: sa.Engine) -> None:
        self.http = http
        self.engine = engine
        self._tokens: dict[str, str] = {}

    def bearer(self, client_id: str, *, roles: list[str], purposes: list[str], regions: list[str]) -> str:
        if client_id not in self._tokens:
            secret = register(self.engine, client_id, roles=roles, purposes=purposes, regions=regions)
            self._tokens[client_id] = token(self.http, client_id, secret)
        return self._tokens[client_id]

    def outsider(self, name: str, *, role: str = "civil-affairs", purpose: str = "comparison") -> str:
        return self.bearer(name, roles=[role], purposes=[purpose], regions=["350524"])

    def ask(self, document: str, bearer: str, **variables: Any) -> tuple[int, bytes, dict[str, str]]:
        response = self.http.post(
            "/graphql", json={"query": document, "variables": variables}, headers={"Authorization": f"Bearer {bearer}"}
        )
        # every answer carries its own request id: the one header that may differ (it is random)
        headers = {name: value for name, value in response.headers.items() if name != "x-request-id"}
        assert len(response.headers.get("x-request-id", "")) == 16
        return response.status_code, response.content, headers

    def events(self) -> list[dict[str, Any]]:
        with self.engine.connect() as connection:
            rows = connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings().all()
        return [dict(row) for row in rows]

    def pseudonym(self, key: str) -> str:
        return pseudonym(key, key=hub_key(self.engine, AUDIT_KEY))


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("oracle")) as (url, engine):
        settings = Settings(database_url=url, token_rate_limit=0, lookup_miss_limit=MISSES_PER_MINUTE)
        with TestClient(create_app(settings)) as http:
            yield Hub(http, engine)


def test_a_person_outside_the_regions_and_an_id_never_issued_answer_alike_and_are_both_audited(hub: Hub) -> None:
    # given a client of another county
    bearer = hub.outsider("oracle-person")
    before = len(hub.events())
    # when it asks for a person who exists outside its regions, and for an id nobody has
    outside = hub.ask(PERSON, bearer, id=SMALL_HEAD)
    never = hub.ask(PERSON, bearer, id=NEVER_ISSUED)
    # then the two answers are the same: status, body and headers
    assert outside == never
    assert outside[0] == 200 and outside[1] == b'{"data":{"person":null}}'
    # and each is one event saying that a look-up found nothing visible, the id pseudonymised; only the
    # trail's detail tells which it was
    events = hub.events()[before:]
    assert [(event["outcome"], event["client_id"], event["operation"]) for event in events] == [
        ("not-found", "oracle-person", "Person"),
        ("not-found", "oracle-person", "Person"),
    ]
    assert [event["subjects"] for event in events] == [[hub.pseudonym(SMALL_HEAD)], [hub.pseudonym(NEVER_ISSUED)]]
    assert [event["detail"] for event in events] == [
        "nothing visible for 1 look-up: person outside the caller's regions (1)",
        "nothing visible for 1 look-up: person not found (1)",
    ]
    assert all(SMALL_HEAD not in str(event) and NEVER_ISSUED not in str(event) for event in events)


def test_a_household_and_an_access_log_outside_answer_as_for_keys_never_issued(hub: Hub) -> None:
    # given a client and an auditor of another county
    bearer = hub.outsider("oracle-household")
    auditor = hub.outsider("oracle-auditor", role="auditor", purpose="audit")
    before = len(hub.events())
    # when they ask for the small household and its head's access log, and for keys nobody has
    households = [hub.ask(HOUSEHOLD, bearer, n=number) for number in (SMALL, NEVER_ISSUED_HOUSEHOLD)]
    logs = [hub.ask(ACCESS_LOG, auditor, id=id_number) for id_number in (SMALL_HEAD, NEVER_ISSUED)]
    # then each pair is answered alike, and each look-up is audited as found nothing
    assert households[0] == households[1] and households[0][1] == b'{"data":{"household":null}}'
    assert logs[0] == logs[1] and logs[0][1] == b'{"data":{"accessLog":{"edges":[]}}}'
    events = hub.events()[before:]
    assert [(event["outcome"], event["operation"]) for event in events] == [
        ("not-found", "Household"),
        ("not-found", "Household"),
        ("not-found", "Log"),
        ("not-found", "Log"),
    ]
    assert events[0]["detail"].endswith("household outside the caller's regions (1)")
    assert events[3]["detail"].endswith("accessLog not found (1)")


def test_past_its_misses_a_client_is_rate_limited_whatever_it_asks(hub: Hub) -> None:
    # given a client that has missed as often as a minute allows, and another client of the same county
    bearer = hub.outsider("oracle-prober")
    other = hub.outsider("oracle-neighbour")
    for number in range(MISSES_PER_MINUTE):
        assert hub.ask(PERSON, bearer, id=make_id("350583", "19900101", number, male=True))[1].endswith(b"null}}")
    before = len(hub.events())
    # when it misses once more, then asks for an id outside its regions and for one never issued
    over = hub.ask(PERSON, bearer, id=LARGE_MEMBERS[0][0])
    outside = hub.ask(PERSON, bearer, id=SMALL_HEAD)
    never = hub.ask(PERSON, bearer, id=NEVER_ISSUED)
    # then each is refused with RATE_LIMITED and the seconds to wait, the same for both kinds of key
    assert outside == never
    for status, body, _ in (over, outside):
        assert status == 200
        [error] = _json(body)["errors"]
        assert error["extensions"]["code"] == "RATE_LIMITED"
        assert 1 <= error["extensions"]["retryAfter"] <= 60
        assert error["message"].startswith("too many look-ups found nothing in the last minute; try again in ")
    # and each refusal is audited, while the other client is answered as before
    events = hub.events()[before:]
    assert [(event["outcome"], event["detail"]) for event in events] == [
        ("partial", "errors: RATE_LIMITED; nothing visible for 1 look-up: person outside the caller's regions (1)"),
        ("partial", "errors: RATE_LIMITED; nothing visible for 1 look-up: person rate limited (1)"),
        ("partial", "errors: RATE_LIMITED; nothing visible for 1 look-up: person rate limited (1)"),
    ]
    assert hub.ask(PERSON, other, id=SMALL_HEAD)[1] == b'{"data":{"person":null}}'


def test_misses_are_forgiven_as_they_leave_the_minute() -> None:
    # given a limit of two misses a minute, on a clock the test moves
    now = [0.0]
    misses = MissLimit(per_minute=2, clock=lambda: now[0])
    # when a client misses three times within a second
    assert misses.missed("prober") is None
    assert misses.missed("prober") is None
    waited = misses.missed("prober")
    # then it waits until the first miss is a minute old, and may look up again after that
    assert waited == 60.0 and misses.wait("prober") == 60.0
    assert misses.wait("someone-else") is None
    now[0] = 60.0
    assert misses.wait("prober") is None and misses.missed("prober") is None


@pytest.fixture(params=BACKENDS)
def world_engine(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[sa.Engine]:
    with world_store(request, tmp_path_factory.mktemp("oracle-cost")) as (_, engine):
        yield engine


def _statements(engine: sa.Engine, document: str, **variables: str) -> tuple[int, dict[str, Any]]:
    """The statements one request sends, for a caller of another county (the whole world lies outside)."""
    access = Access(view=unrestricted_view(), regions=("350524",))
    context = Context.create(engine, {}, list(DEPARTMENTS), access)
    context.connection()  # connect first: only the query's own statements are counted
    try:
        with counting_statements(engine) as counted:
            result = asyncio.run(
                schema.create_schema().execute(document, variable_values=variables, context_value=context)
            )
    finally:
        context.connection.close()
    assert result.errors is None, result.errors
    assert result.data is not None
    return counted[0], result.data


def test_a_key_outside_costs_the_read_that_decides_where_it_belongs_and_no_more(world_engine: sa.Engine) -> None:
    # given a caller to whom the whole world lies outside
    # when it asks for a person and a household that exist, and for keys never issued
    person_outside, answer_outside = _statements(world_engine, PERSON, id=SMALL_HEAD)
    person_never, answer_never = _statements(world_engine, PERSON, id=NEVER_ISSUED)
    household_outside, _ = _statements(world_engine, HOUSEHOLD, n=SMALL)
    household_never, _ = _statements(world_engine, HOUSEHOLD, n=NEVER_ISSUED_HOUSEHOLD)
    # then both kinds cost the same statements: the person with its household (one on PostgreSQL, one per
    # table on SQLite), the household alone; nothing of the rest of their records is read
    assert answer_outside == answer_never == {"person": None}
    postgres = world_engine.dialect.name == "postgresql"
    assert (person_outside, person_never) == ((1, 1) if postgres else (2, 2))
    assert (household_outside, household_never) == (1, 1)


def _json(body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = orjson.loads(body)
    return parsed
