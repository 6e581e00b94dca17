"""A client's secret rotated (audited; the old secret and its tokens refused), its last use: SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from auth.audit import AuditLog, AuditUnavailable, search, verify
from auth.authenticate import Authenticator
from auth.clients import (
    CLIENT_CHANGED,
    ClientError,
    UnknownClient,
    disable_client,
    last_used,
    load_client,
    rotate_secret,
    set_rate_limit,
    verify_client,
)
from auth.server import KeyRingCache, TokenService
from auth.tables import oauth_client
from tests.auth.test_audit import T0, event
from tests.auth.test_authenticate import refusal, whoami, whoami_route
from tests.auth.test_oauth_introspection import introspect
from tests.auth.test_oauth_token import (
    NANAN,
    SETTINGS,
    FakeClock,
    hub_app,
    register,
    request_token,
    running,
    token_for,
)

EDUCATION = "education-nanan"


def next_second() -> None:
    """Wait into the next wall-clock second: a token's `iat` counts whole seconds."""
    time.sleep(1.02 - time.time() % 1)


def stored_secret_hash(engine: sa.Engine, client_id: str = NANAN) -> str:
    with engine.connect() as connection:
        query = sa.select(oauth_client.c.secret_hash).where(oauth_client.c.client_id == client_id)
        return str(connection.execute(query).scalar_one())


# --- rotating a secret ---


def test_the_old_secret_is_refused_at_the_token_endpoint_and_the_new_one_accepted(
    engine: sa.Engine, hub: TestClient
) -> None:
    # given a client whose secret gets tokens
    old = register(engine)
    assert request_token(hub, NANAN, old).status_code == 200

    # when its secret is rotated
    new = rotate_secret(engine, NANAN, by="admin-wang")

    # then the old secret is refused at once, as a wrong one is, and the new one gets a token
    refused = request_token(hub, NANAN, old)
    assert (refused.status_code, refused.json()["error"]) == (401, "invalid_client")
    assert request_token(hub, NANAN, new).status_code == 200
    assert new != old and verify_client(engine, NANAN, new) is not None and verify_client(engine, NANAN, old) is None
    # and only the new secret's hash is stored, never the secret
    assert new not in stored_secret_hash(engine)


def test_tokens_issued_before_the_rotation_stop_working_within_seconds(
    engine: sa.Engine, hub: TestClient, clock: FakeClock
) -> None:
    # given a token got with the old secret, working
    old = register(engine)
    before = token_for(hub, NANAN, old)
    assert whoami(hub, before).status_code == 200

    # when the secret is rotated in a later second, and a token is got with the new one
    next_second()
    new = rotate_secret(engine, NANAN, by="admin-wang")
    after = token_for(hub, NANAN, new)

    # then, once the few seconds a worker keeps the client's record have passed, the old token is refused
    clock.now += 5
    assert refusal(whoami(hub, before)) == "issued before the client's secret was rotated"
    # and introspection calls it inactive, while the new token works and is active
    assert introspect(hub, before, NANAN, new) == {"active": False}
    assert whoami(hub, after).status_code == 200
    assert introspect(hub, after, NANAN, new)["active"] is True


def test_a_token_got_in_the_second_of_the_rotation_with_the_new_secret_works(
    engine: sa.Engine, hub: TestClient, clock: FakeClock
) -> None:
    # given a client, when its secret is rotated and a token got with the new one at once (within the same second)
    register(engine)
    new = rotate_secret(engine, NANAN, by="admin-wang")
    token = token_for(hub, NANAN, new)
    clock.now += 5

    # then the token works: the rotation is compared in whole seconds, as `iat` is
    assert whoami(hub, token).status_code == 200


def test_a_rotation_is_an_audit_event_naming_the_person(engine: sa.Engine) -> None:
    # given a client
    register(engine)

    # when admin-wang rotates its secret from the command line, then li-ming from the console
    rotate_secret(engine, NANAN, by="admin-wang")
    rotate_secret(engine, NANAN, by="li-ming", audited_as="console")

    # then each rotation is an event naming the person, and the console's names the console as its client
    events = search(engine, operation="clients rotate").entries
    assert [(e.outcome, e.client_id, e.actor, e.subject_count) for e in events] == [
        (CLIENT_CHANGED, "console", "li-ming", 0),
        (CLIENT_CHANGED, None, "admin-wang", 0),
    ]
    assert events[1].detail == f"client {NANAN}: secret rotated, tokens issued before it refused"
    # and the chain holds them
    assert verify(engine).ok


def test_disabling_and_limiting_a_client_are_audit_events_naming_the_person(engine: sa.Engine) -> None:
    # given a client, when li-ming limits it, makes it unlimited, gives it the default again and disables it
    register(engine)
    for limit in (120, 0, None):
        set_rate_limit(engine, NANAN, limit, by="li-ming", audited_as="console")
    disable_client(engine, NANAN, by="admin-wang")

    # then each change is an event naming the person and what changed, oldest last
    events = search(engine, outcome=CLIENT_CHANGED).entries
    assert [(e.operation, e.client_id, e.actor, e.detail) for e in events] == [
        ("clients disable", None, "admin-wang", f"client {NANAN}: disabled"),
        ("clients limit", "console", "li-ming", f"client {NANAN}: rate limit default"),
        ("clients limit", "console", "li-ming", f"client {NANAN}: rate limit unlimited"),
        ("clients limit", "console", "li-ming", f"client {NANAN}: rate limit 120"),
    ]
    # and a change refused (an unknown client, no person named) writes none
    with pytest.raises(UnknownClient):
        disable_client(engine, "nobody", by="admin-wang")
    with pytest.raises(ClientError, match="name the person"):
        set_rate_limit(engine, NANAN, 5, by=" ")
    assert len(search(engine).entries) == 4


def test_rotating_an_unknown_client_changes_nothing_and_writes_nothing(engine: sa.Engine) -> None:
    # given a client, when another one's secret is to be rotated, then it is refused, naming it
    register(engine)
    with pytest.raises(UnknownClient, match="no client 'nobody' is registered"):
        rotate_secret(engine, "nobody", by="admin-wang")
    # and the trail has no event of it
    assert search(engine).entries == ()


@pytest.mark.parametrize("by", ["", "   ", "x" * 101, "admin\nwang"])
def test_a_rotation_needs_the_person_who_makes_it(engine: sa.Engine, by: str) -> None:
    # given a client, when its secret is to be rotated without a proper name of who does it
    old = register(engine)
    with pytest.raises(ClientError, match="name the person making the change"):
        rotate_secret(engine, NANAN, by=by)
    # then nothing changed
    assert verify_client(engine, NANAN, old) is not None


def test_a_rotation_whose_event_cannot_be_written_changes_nothing(
    engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a client, and a trail that cannot take an event
    old = register(engine)
    before = stored_secret_hash(engine)

    def unavailable(*_args: Any, **_kwargs: Any) -> list[int]:
        raise AuditUnavailable("the audit event could not be written: OperationalError")

    monkeypatch.setattr(AuditLog, "append_within", unavailable)

    # when its secret is to be rotated, then the rotation fails, and the old secret still works
    with pytest.raises(AuditUnavailable):
        rotate_secret(engine, NANAN, by="admin-wang")
    assert stored_secret_hash(engine) == before and verify_client(engine, NANAN, old) is not None
    client = load_client(engine, NANAN)
    assert client is not None and client.secret_rotated_at is None


def test_a_disabled_client_stays_disabled_when_its_secret_is_rotated(engine: sa.Engine) -> None:
    # given a disabled client, when its secret is rotated, then the new secret is refused all the same
    register(engine)
    disable_client(engine, NANAN, by="admin-wang")
    new = rotate_secret(engine, NANAN, by="admin-wang")
    assert verify_client(engine, NANAN, new) is None


# --- last use ---


def test_last_use_is_the_time_of_the_clients_newest_event(engine: sa.Engine) -> None:
    # given two clients that called and one that never did
    for client_id in (NANAN, EDUCATION, "housing-nanan"):
        register(engine, client_id=client_id)
    log = AuditLog(engine)
    log.append(event(0, client_id=NANAN, at=T0 + timedelta(hours=1)))
    log.append(event(1, client_id=EDUCATION, at=T0 + timedelta(hours=2)))
    # the newest event by seq counts, even when its time is older (a counted refusal is dated by its minute)
    log.append(event(2, client_id=NANAN, at=T0))
    log.append(event(3, client_id=None, at=T0 + timedelta(hours=3)))
    # and events that name a client without being its request: a webhook sent to it, a dry run acting as it
    log.append(event(4, client_id=NANAN, outcome="webhook", at=T0 + timedelta(hours=4)))
    log.append(event(5, client_id=EDUCATION, outcome="dry-run", at=T0 + timedelta(hours=5)))

    # when their last use is asked for, with an id that is not registered
    used = last_used(engine, ["housing-nanan", NANAN, EDUCATION, "nobody"])

    # then each registered client has its newest request's time, one that never called none, nor an unknown id
    assert used == {
        "housing-nanan": None,
        NANAN: T0,
        EDUCATION: T0 + timedelta(hours=2),
        "nobody": None,
    }
    assert all(moment is None or moment.tzinfo is not None for moment in used.values())
    assert last_used(engine, []) == {}


def test_last_use_is_one_statement_for_any_number_of_clients(engine: sa.Engine) -> None:
    # given twelve clients, each with an event
    ids = [f"client-{number}" for number in range(12)]
    log = AuditLog(engine)
    for number, client_id in enumerate(ids):
        register(engine, client_id=client_id)
        log.append(event(number, client_id=client_id))

    # when their last use is asked for, counting the statements sent
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        used = last_used(engine, ids)
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    # then one statement answered all of them
    assert len(statements) == 1
    assert all(used[client_id] is not None for client_id in ids)


def test_last_use_reads_the_index_on_client_and_seq(engine: sa.Engine) -> None:
    # given the store's plan for a client's newest event
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.exec_driver_sql("SET enable_seqscan = off")  # an empty table: ask whether the index serves
            plan = connection.exec_driver_sql(
                "EXPLAIN SELECT at FROM audit_event WHERE client_id = 'x' ORDER BY seq DESC LIMIT 1"
            ).all()
        else:
            plan = connection.exec_driver_sql(
                "EXPLAIN QUERY PLAN SELECT at FROM audit_event WHERE client_id = 'x' ORDER BY seq DESC LIMIT 1"
            ).all()
    # then it reads the index, not the whole trail, and needs no sort
    text = " ".join(str(row) for row in plan)
    assert "ix_audit_event_client_id_seq" in text and "sort" not in text.lower()


# --- fixtures: the token endpoint and a protected route, as in test_authenticate.py ---


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(store_url: str, clock: FakeClock) -> Iterator[TestClient]:
    keys = KeyRingCache(clock=clock)
    authenticator = Authenticator(SETTINGS, keys=keys, clock=clock)
    app = hub_app(store_url, service=TokenService(SETTINGS, keys=keys), routes=[whoami_route(authenticator)])
    with running(app) as http:
        yield http
