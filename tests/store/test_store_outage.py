"""A PostgreSQL restart under a running hub: 503 while the store is away, answers again once it is back.

The hub runs on a PostgreSQL server of this module's own (the session's server is shared by other
tests and is never stopped). During the outage every request is answered 503 as JSON with
`Retry-After` (STORE_UNAVAILABLE, or AUDIT_UNAVAILABLE when only the trail's write failed), never a
500 or a 200 carrying internal errors; afterwards the same hub answers without being restarted, the
audit chain verifies and every 200 it gave has its event.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
import uvicorn
from starlette.testclient import TestClient

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.app import create_app
from aidgraph.db import create_engine, migrate
from aidgraph.settings import Settings
from auth.audit import AuditEvent, AuditLog, AuditUnavailable, AuditWriter, Caller, audit_event, verify
from auth.tables import audit_event as audit_table
from tests.access import apply_demo_policy, register, token
from tests.world import SMALL_HEAD, write_world
from tools.pgserver import ThrowawayPostgres, _free_port

PERSON = "query Person($id: String!) { person(idNumber: $id) { idNumber name household { address } } }"
CLIENT = "outage-civil-affairs"


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[ThrowawayPostgres]:
    server = ThrowawayPostgres().start()
    yield server
    server.stop()


@pytest.fixture
def restartable_store(own_postgres: ThrowawayPostgres, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    """A migrated store on the module's own server, holding the tiny world, the demo policy and one client."""
    url = own_postgres.create_database(f"outage_{tmp_path.name[-40:].replace('-', '_')}")
    engine = create_engine(url)
    migrate(engine)
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    apply_demo_policy(engine)
    yield url, engine
    engine.dispose()


def _ask(http: TestClient, bearer: str) -> tuple[int, dict[str, Any], dict[str, str]]:
    response = http.post(
        "/graphql",
        json={"query": PERSON, "variables": {"id": SMALL_HEAD}},
        headers={"Authorization": f"Bearer {bearer}"},
    )
    assert response.headers["content-type"].startswith("application/json"), response.text
    return response.status_code, response.json(), dict(response.headers)


def test_a_store_restart_is_503_while_it_lasts_and_the_hub_recovers_by_itself(
    own_postgres: ThrowawayPostgres, restartable_store: tuple[str, sa.Engine]
) -> None:
    # given a secured hub on the store, answering a client, and another client holding a token it has not used
    url, engine = restartable_store
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["comparison"])
    newcomer_secret = register(engine, "outage-newcomer", roles=["civil-affairs"], purposes=["comparison"])
    engine.dispose()  # the test's own connections must not outlive the restart either
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        bearer = token(http, CLIENT, secret)
        newcomer = token(http, "outage-newcomer", newcomer_secret)
        answered = [_ask(http, bearer) for _ in range(3)]
        # when the store's server stops, and requests keep coming (the newcomer's client record is not
        # known to the hub yet: its token cannot be checked without the store)
        own_postgres.halt()
        try:
            during = [_ask(http, bearer) for _ in range(3)] + [_ask(http, newcomer)]
        finally:
            own_postgres.resume()
        # and it is back
        after = [_ask(http, bearer) for _ in range(3)]
    # then the answers before and after are whole, and the ones during the outage are 503 JSON errors
    for status, body, _ in answered + after:
        assert status == 200, body
        person = body["data"]["person"]
        assert (person["idNumber"], person["name"]) == (SMALL_HEAD, "欧阳明") and person["household"]["address"]
        assert "errors" not in body
    for status, body, headers in during:
        assert status == 503, body
        [error] = body["errors"]
        assert error["extensions"]["code"] in ("STORE_UNAVAILABLE", "AUDIT_UNAVAILABLE")
        assert "data" not in body
        assert int(headers["retry-after"]) >= 1
    assert any(body["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE" for _, body, _ in during)
    assert during[-1][1]["errors"][0]["extensions"]["code"] == "STORE_UNAVAILABLE"
    # and the trail verifies, with an event for every 200
    assert verify(engine).ok
    with engine.connect() as connection:
        events = connection.execute(
            sa.select(audit_table.c.outcome).where(
                audit_table.c.client_id == CLIENT, audit_table.c.operation == "Person"
            )
        ).all()
    assert [row.outcome for row in events] == ["ok"] * len(answered + after)


def test_a_restart_between_requests_goes_unnoticed(
    own_postgres: ThrowawayPostgres, restartable_store: tuple[str, sa.Engine]
) -> None:
    # given a secured hub that has answered, its pool holding connections to the store
    url, engine = restartable_store
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["comparison"])
    engine.dispose()
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        bearer = token(http, CLIENT, secret)
        before = _ask(http, bearer)
        # when the store restarts while no request is under way
        own_postgres.halt()
        own_postgres.resume()
        # then the next request is answered in full: the pool's connections to the old server are not used
        after = _ask(http, bearer)
    assert before[0] == after[0] == 200 and before[1] == after[1]
    assert verify(engine).ok


def _event(number: int) -> AuditEvent:
    return audit_event(
        "ok",
        caller=Caller(client_id=CLIENT),
        actor=None,
        operation=f"Read{number}",
        document_hash=None,
        subjects=[SMALL_HEAD],
        at=datetime.now(UTC),
    )


def test_the_audit_writer_fails_its_waiting_requests_while_the_store_is_away_and_loses_nothing(
    own_postgres: ThrowawayPostgres, restartable_store: tuple[str, sa.Engine]
) -> None:
    # given a running hub's audit writer that has written one event
    _, engine = restartable_store
    writer = AuditWriter(AuditLog(engine))

    async def appends(numbers: range) -> list[int | BaseException]:
        # a guard, not a measure: a writer that hung would otherwise hang the suite
        waiting = asyncio.gather(*(writer.append(_event(n)) for n in numbers), return_exceptions=True)
        return await asyncio.wait_for(waiting, timeout=60)

    [first] = asyncio.run(appends(range(1)))
    # when the store stops while eight requests wait for their events, and is started again
    own_postgres.halt()
    try:
        during = asyncio.run(appends(range(1, 9)))
    finally:
        own_postgres.resume()
    after = asyncio.run(appends(range(9, 12)))
    # then every waiting request failed with AuditUnavailable (a 503 for its client), and none hung
    assert all(isinstance(outcome, AuditUnavailable) for outcome in during), during
    # and the writer writes again, the chain unbroken: the events before and after, none of those refused
    assert first == 1 and after == [2, 3, 4]
    report = verify(engine)
    assert report.ok and report.events_checked == 4
    with engine.connect() as connection:
        operations = connection.execute(sa.select(audit_table.c.operation).order_by(audit_table.c.seq)).scalars()
        assert list(operations) == ["Read0", "Read9", "Read10", "Read11"]


class LoopbackHub:
    """The hub served by a real uvicorn on loopback, in a thread of the test."""

    def __init__(self, url: str) -> None:
        self.port = _free_port()
        app = create_app(Settings(database_url=url, token_rate_limit=0))
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", access_log=False)
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def __enter__(self) -> str:
        self._thread.start()
        _until(lambda: self._server.started, what="the hub to start")
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_exc: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=30)


def _until(condition: Any, *, what: str, seconds: float = 60) -> None:
    """Wait for `condition`; a guard so that a hub that never gets there fails the test, not a measure."""
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"waited {seconds} s for {what}"
        time.sleep(0.02)


def test_under_load_a_restart_gives_503s_only_and_every_200_has_its_event(
    own_postgres: ThrowawayPostgres, restartable_store: tuple[str, sa.Engine]
) -> None:
    # given a hub on loopback, and four clients asking without pause, each request with a case id of its own
    url, engine = restartable_store
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["comparison"])
    engine.dispose()
    answers: list[tuple[str, int, dict[str, Any], dict[str, str]]] = []
    numbers = itertools.count()
    stop = threading.Event()

    def ask_until_stopped(base: str, bearer: str) -> None:
        with httpx2.Client(base_url=base, timeout=30) as http:
            while not stop.is_set():
                case = f"load-{next(numbers)}"
                response = http.post(
                    "/graphql",
                    json={"query": PERSON, "variables": {"id": SMALL_HEAD}},
                    headers={"Authorization": f"Bearer {bearer}", "X-Case-Id": case},
                )
                answers.append((case, response.status_code, response.json(), dict(response.headers)))

    def count(status: int) -> int:
        return sum(1 for _, answered, _, _ in answers if answered == status)

    with LoopbackHub(url) as base:
        with httpx2.Client(base_url=base) as http:
            bearer = token(http, CLIENT, secret)
        clients = [threading.Thread(target=ask_until_stopped, args=(base, bearer)) for _ in range(4)]
        for client in clients:
            client.start()
        try:
            _until(lambda: count(200) >= 20, what="answers before the restart")
            # when the store's server stops under that load, and starts again
            own_postgres.halt()
            try:
                _until(lambda: count(503) >= 10, what="refusals during the outage")
            finally:
                own_postgres.resume()
            answered_before = count(200)
            _until(lambda: count(200) >= answered_before + 20, what="answers after the restart")
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=60)
    # then every answer was a whole 200 or a 503 JSON error saying to try again, never a 500
    assert {status for _, status, _, _ in answers} == {200, 503}
    for _, status, body, headers in answers:
        if status == 200:
            assert "errors" not in body and body["data"]["person"]["idNumber"] == SMALL_HEAD
        else:
            assert body["errors"][0]["extensions"]["code"] in ("STORE_UNAVAILABLE", "AUDIT_UNAVAILABLE")
            assert "data" not in body and int(headers["retry-after"]) >= 1
    # and the chain verifies, with an event for every 200 (found by its case id)
    assert verify(engine).ok
    with engine.connect() as connection:
        audited = set(connection.execute(sa.select(audit_table.c.case_id)).scalars())
    assert {case for case, status, _, _ in answers if status == 200} <= audited


def test_a_token_request_while_the_store_is_away_is_503_to_try_again(
    own_postgres: ThrowawayPostgres, restartable_store: tuple[str, sa.Engine]
) -> None:
    # given a hub on the store and a registered client
    url, engine = restartable_store
    secret = register(engine, CLIENT, roles=["civil-affairs"], purposes=["comparison"])
    engine.dispose()
    form = {"grant_type": "client_credentials", "client_id": CLIENT, "client_secret": secret}
    with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
        # when the store's server is stopped and the client asks for a token, and for the key set
        own_postgres.halt()
        try:
            refused = http.post("/oauth/token", data=form)
            keys = http.get("/.well-known/jwks.json")
        finally:
            own_postgres.resume()
        # then both are 503 as JSON, to be tried again, and the token is given once the store is back
        for response in (refused, keys):
            assert response.status_code == 503, response.text
            assert response.headers["retry-after"] == "5"
        assert refused.json()["error"] == "temporarily_unavailable"
        assert http.post("/oauth/token", data=form).status_code == 200
