"""The bounds around a request through the secured hub: body size, the client's rate, time, an unwritable trail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.app import create_app
from aidgraph.db import create_engine
from aidgraph.settings import Settings
from auth.clients import register_client, set_rate_limit
from auth.tables import audit_event
from tests.access import apply_demo_policy, world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.world import SMALL, write_world
from tools.pgserver import ThrowawayPostgres

PICTURE = "query Picture($number: String!) { household(householdNumber: $number) { address members { name } } }"
EXPORT = {"term": "2026-2027-1", "region": "3505"}


@pytest.fixture(params=BACKENDS)
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, sa.Engine]]:
    with world_store(request, tmp_path) as store:
        yield store


def _hub(world: tuple[str, sa.Engine], **settings: object) -> TestClient:
    url, _engine = world
    return TestClient(create_app(Settings(database_url=url, token_rate_limit=0, **settings)))  # type: ignore[arg-type]


def _ask(http: TestClient, bearer: str | None, body: bytes | None = None, **headers: str):  # type: ignore[no-untyped-def]
    if bearer is not None:
        headers["Authorization"] = f"Bearer {bearer}"
    content = body if body is not None else _picture()
    return http.post("/graphql", content=content, headers={"Content-Type": "application/json", **headers})


def _picture() -> bytes:
    import orjson

    return orjson.dumps({"query": PICTURE, "variables": {"number": SMALL}})


def _error(response) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    [error] = response.json()["errors"]
    assert "data" not in response.json()
    return error["extensions"]["code"], error["message"]


def _events(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(audit_event)).scalar_one())


def test_a_body_over_the_limit_is_413_and_is_read_only_after_the_token(world: tuple[str, sa.Engine]) -> None:
    # given a hub taking bodies of at most 2,000 bytes
    with _hub(world, max_request_bytes=2_000) as http:
        hub = Hub(http, world[1])
        bearer = hub.as_role("civil-affairs", "assistance-review")
        oversized = b'{"query": "' + b" " * 1_000_000 + b'{ __typename }"}'
        # when a body of a megabyte comes without a token, then it is refused for the token, not the body
        anonymous = _ask(http, None, oversized)
        assert anonymous.status_code == 401 and _error(anonymous)[0] == "UNAUTHENTICATED"
        # when it comes with a valid token, then it is 413 saying the limit, as JSON
        refused = _ask(http, bearer, oversized)
        assert refused.status_code == 413
        assert refused.headers["content-type"].startswith("application/json")
        assert _error(refused) == (
            "REQUEST_TOO_LARGE",
            "the request body is larger than 2000 bytes: send a shorter document, or fewer variables",
        )
        # and a body within the limit is answered
        assert _ask(http, bearer).json()["data"]["household"]["address"]


def test_a_client_over_its_rate_gets_429_with_retry_after(world: tuple[str, sa.Engine]) -> None:
    # given a client registered with 3 requests per minute, and another on the hub's default
    _url, engine = world
    with _hub(world) as http:
        hub = Hub(http, engine)
        bearer = hub.as_role("student-aid", "student-aid")
        set_rate_limit(engine, "student-aid-student-aid", 3, by="admin-wang")
        other = hub.as_role("civil-affairs", "assistance-review")
        # when it asks twice on /graphql and once for the export, then a fourth time
        asked = [_ask(http, bearer).status_code for _ in range(2)]
        exported = http.get("/students/export", params=EXPORT, headers={"Authorization": f"Bearer {bearer}"})
        refused = _ask(http, bearer)
        # then the first three are answered (the limit is read with the client's record) and the fourth is 429
        assert asked == [200, 200] and exported.status_code == 200
        assert refused.status_code == 429
        assert int(refused.headers["retry-after"]) >= 1
        assert _error(refused) == (
            "RATE_LIMITED",
            f"too many requests from client student-aid-student-aid: retry in {refused.headers['retry-after']} s",
        )
        # and the other client is not affected
        assert _ask(http, other).status_code == 200


def test_a_client_registered_with_its_own_limit_is_held_to_it(world: tuple[str, sa.Engine]) -> None:
    # given a client registered with 1 request per minute, on a hub whose default allows many
    _url, engine = world
    _client, secret = register_client(
        engine,
        client_id="slow-civil",
        department="tests",
        roles=["civil-affairs"],
        regions=["3505"],
        purposes=["assistance-review"],
        rate_limit=1,
    )
    with _hub(world, client_rate_limit=1_000) as http:
        from tests.access import token

        bearer = token(http, "slow-civil", secret)
        # when it asks twice, then the second is refused
        assert [_ask(http, bearer).status_code for _ in range(2)] == [200, 429]


def test_over_the_request_timeout_is_504_and_nothing_is_sent(world: tuple[str, sa.Engine]) -> None:
    # given a hub allowing a request a microsecond
    _url, engine = world
    with _hub(world, request_timeout=0.000_001) as http:
        hub = Hub(http, engine)
        bearer = hub.as_role("civil-affairs", "assistance-review")
        before = _events(engine)
        # when a picture is asked for
        response = _ask(http, bearer)
        # then it is 504, as JSON, with no data, and no event was needed
        assert response.status_code == 504, response.text
        assert _error(response) == (
            "REQUEST_TIMEOUT",
            "the request took longer than the 1e-06 s allowed; nothing was returned",
        )
        assert _events(engine) == before


def test_request_connections_have_a_statement_timeout_and_export_connections_none(postgres: ThrowawayPostgres) -> None:
    # given a hub on PostgreSQL whose request statements may run 1.5 s (SQLite has no statement_timeout)
    url = postgres.create_database("statement_timeouts", template="aidgraph_template")
    with TestClient(create_app(Settings(database_url=url, statement_timeout=1.5))) as http:
        request_engine: sa.Engine = http.app_state["engine"]
        export_engine: sa.Engine = http.app_state["export_engine"]
        # then PostgreSQL cancels a request connection's statement at 1.5 s, never an export's
        with request_engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar_one() == "1500ms"
        with export_engine.connect() as connection:
            assert connection.execute(sa.text("SHOW statement_timeout")).scalar_one() == "0"


def test_a_statement_past_its_timeout_is_504_and_nothing_is_sent(postgres: ThrowawayPostgres, tmp_path: Path) -> None:
    # given a hub on PostgreSQL whose request statements may run 0.3 s, and the households table locked
    url = postgres.create_database("statement_cancelled", template="aidgraph_template")
    engine = create_engine(url)
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    apply_demo_policy(engine)
    with TestClient(create_app(Settings(database_url=url, statement_timeout=0.3, token_rate_limit=0))) as http:
        bearer = Hub(http, engine).as_role("civil-affairs", "assistance-review")
        before = _events(engine)
        with engine.connect() as locker:
            locker.execute(sa.text("LOCK TABLE registry_household IN ACCESS EXCLUSIVE MODE"))
            # when a picture is asked for while the lock is held
            response = _ask(http, bearer)
            locker.rollback()
        # then the statement was cancelled, and the request is 504 with no data and no event
        assert response.status_code == 504, response.text
        assert _error(response) == (
            "REQUEST_TIMEOUT",
            "a statement of this request ran past the store's time limit; nothing was returned",
        )
        assert _events(engine) == before
        # and without the lock it is answered
        assert _ask(http, bearer).status_code == 200
    engine.dispose()


def _break_the_trail(engine: sa.Engine) -> None:
    """The trail's table renamed away: the real writer's insert (or PostgreSQL's audit_append) fails."""
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_gone"))


def test_a_refusal_whose_event_cannot_be_written_is_503_as_json(world: tuple[str, sa.Engine]) -> None:
    # given an authenticated client, and a trail that cannot be written
    _url, engine = world
    with _hub(world) as http:
        hub = Hub(http, engine)
        bearer = hub.as_role("civil-affairs", "assistance-review")
        _break_the_trail(engine)
        # when it declares a purpose it may not, or a malformed case id (refusals that are audited)
        forbidden = _ask(http, bearer, **{"X-Purpose": "comparison"})
        bad_case = _ask(http, bearer, **{"X-Case-Id": "x" * 101})
        # then each is 503 AUDIT_UNAVAILABLE as JSON, not a bare 500 nor the refusal unrecorded
        for response in (forbidden, bad_case):
            assert response.status_code == 503
            assert response.headers["content-type"].startswith("application/json")
            assert _error(response) == (
                "AUDIT_UNAVAILABLE",
                "the audit trail is unavailable, so nothing can be returned; try again later",
            )


def test_an_export_refused_by_the_policy_is_recorded_and_503_when_it_cannot_be(world: tuple[str, sa.Engine]) -> None:
    # given a client whose role is not granted the list of eligible students
    _url, engine = world
    with _hub(world) as http:
        hub = Hub(http, engine)
        bearer = {"Authorization": f"Bearer {hub.as_role('housing', 'assistance-review')}"}
        # when it asks for the export, then it is refused and the refusal is one event naming it
        refused = http.get("/students/export", params=EXPORT, headers=bearer)
        assert refused.status_code == 403 and _error(refused)[0] == "FORBIDDEN"
        with engine.connect() as connection:
            last = connection.execute(sa.select(audit_event).order_by(audit_event.c.seq.desc()).limit(1)).one()
        assert (last.outcome, last.operation, last.client_id) == (
            "refused",
            "students export",
            "housing-assistance-review",
        )
        assert last.detail.startswith("FORBIDDEN: the export: ")
        # and with a trail that cannot be written, the refusal is 503 AUDIT_UNAVAILABLE
        _break_the_trail(engine)
        unrecorded = http.get("/students/export", params=EXPORT, headers=bearer)
        assert unrecorded.status_code == 503 and _error(unrecorded)[0] == "AUDIT_UNAVAILABLE"


def test_an_export_whose_first_event_cannot_be_written_is_503_before_any_header(
    world: tuple[str, sa.Engine],
) -> None:
    # given the student-aid system, and a trail that cannot be written
    _url, engine = world
    with _hub(world) as http:
        hub = Hub(http, engine)
        bearer = hub.as_role("student-aid", "student-aid")
        _break_the_trail(engine)
        # when it asks for the term's export
        response = http.get("/students/export", params=EXPORT, headers={"Authorization": f"Bearer {bearer}"})
        # then nothing of the export was sent: a 503 as JSON, not a 200 cut off after its headers
        assert response.status_code == 503
        assert "content-disposition" not in response.headers
        assert _error(response)[0] == "AUDIT_UNAVAILABLE"
