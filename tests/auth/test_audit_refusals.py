"""Refusals without a valid token: counted per (claimed client, address, minute), one event each, never waited for.

On SQLite and PostgreSQL: a flood of bad tokens writes one event per source and minute, a 401 is
answered at once even when the trail is slow or down, and the token itself is never stored.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from starlette.requests import Request
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth.audit import AuditEvent, AuditLog, AuditUnavailable, AuditWriter, document_hash, verify
from auth.audit.refusals import MANY_SOURCES, RefusalCounts
from auth.authenticate import claimed_client_id
from auth.tables import audit_event
from tests.access import register, token
from tests.auth.test_tokens import segment

MEMBERS = 'query Members { household(householdNumber: "3505830010010001") { householdNumber } }'
NINE = datetime(2026, 11, 24, 9, 0, 0, tzinfo=UTC)


def bad_token(claims: dict[str, Any]) -> str:
    """A JWT that parses but is signed by nobody: refused, whatever it claims."""
    return f"{segment({'typ': 'at+jwt', 'alg': 'ES256', 'kid': 'nobody'})}.{segment(claims)}.c2lnbmF0dXJl"


def stored_events(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


# --- counting, in the writer ---


def test_fifty_refusals_within_a_minute_make_one_event_with_their_count(engine: sa.Engine) -> None:
    # given a hub's writer at 09:00:10
    clock = Clock(NINE + timedelta(seconds=10))
    writer = AuditWriter(AuditLog(engine), clock=clock)

    async def flood() -> tuple[int, int]:
        # when 50 requests with bad tokens claiming one client come from one address within the minute
        for number in range(50):
            clock.now = NINE + timedelta(seconds=10 + number)
            reason = "expired" if number % 5 == 0 else "bad signature"
            writer.count_unauthenticated(claimed_client_id="civil-nanan", address="203.0.113.9", reason=reason)
        during = await writer.write_refusals()  # the minute is not over: nothing to write yet
        clock.now = NINE + timedelta(minutes=1, seconds=2)
        return during, await writer.write_refusals()

    during, after = asyncio.run(flood())

    # then nothing was written while the minute lasted, and one event once it was over
    assert (during, after) == (0, 1)
    [event] = stored_events(engine)
    assert (event["outcome"], event["client_id"], event["operation"], event["subjects"]) == (
        "unauthenticated",
        None,  # the claim is unverified: client_id only ever names a client that proved who it is
        None,
        [],
    )
    assert event["detail"] == (
        "50 refusals: bad signature (40), expired (10); token claims client civil-nanan; from 203.0.113.9"
    )
    at = event["at"]
    assert (at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)) == NINE  # the minute it counts
    assert verify(engine).ok


def test_each_claimed_client_address_and_minute_is_counted_apart(engine: sa.Engine) -> None:
    # given refusals from two addresses, with and without a claimed client, over two minutes
    clock = Clock(NINE)
    writer = AuditWriter(AuditLog(engine), clock=clock)
    sources: list[tuple[str | None, str | None, int]] = [
        ("civil-nanan", "203.0.113.9", 0),
        ("civil-nanan", "203.0.113.9", 0),
        (None, "203.0.113.9", 0),
        ("civil-nanan", "198.51.100.7", 0),
        ("civil-nanan", "203.0.113.9", 1),
        (None, None, 1),
    ]

    async def refusals() -> int:
        for claimed, address, minute in sources:
            clock.now = NINE + timedelta(minutes=minute, seconds=30)
            writer.count_unauthenticated(claimed_client_id=claimed, address=address, reason="expired")
        clock.now = NINE + timedelta(minutes=5)
        return await writer.write_refusals()

    # when they are written after both minutes are over
    written = asyncio.run(refusals())

    # then there is one event per key, with its count
    assert written == 5
    assert sorted(event["detail"] for event in stored_events(engine)) == sorted(
        [
            "2 refusals: expired (2); token claims client civil-nanan; from 203.0.113.9",
            "1 refusal: expired (1); from 203.0.113.9",
            "1 refusal: expired (1); token claims client civil-nanan; from 198.51.100.7",
            "1 refusal: expired (1); token claims client civil-nanan; from 203.0.113.9",
            "1 refusal: expired (1); from an unknown address",
        ]
    )


def test_the_counts_stay_bounded_however_many_sources_a_flood_invents() -> None:
    # given counts that keep at most three keys apart
    counts = RefusalCounts(max_keys=3)

    # when a flood claims a new client from a new address each time, with ever new reasons
    for number in range(1000):
        counts.count(claimed=f"c{number}", address=f"10.0.{number // 250}.{number % 250}",
                     reason=f"reason {number % 20}", at=NINE)  # fmt: skip

    # then three keys are kept apart, the rest counted together as many sources, every refusal counted
    taken = counts.take(before=None)
    assert len(taken) == 4
    [(overflow, reasons)] = [(key, reasons) for key, reasons in taken.items() if key.address == MANY_SOURCES]
    assert overflow.claimed is None
    assert sum(sum(reasons.values()) for reasons in taken.values()) == 1000
    # and no key holds more than eight reasons and the rest together
    assert len(reasons) == 9 and reasons["other reasons"] > 0


def test_a_reason_that_quotes_the_token_is_cut_and_made_printable() -> None:
    # given a forged token whose header names a 100,000-character field with a line break in it
    counts = RefusalCounts()

    # when its refusal is counted, with the reason the validator gives
    counts.count(claimed=None, address="203.0.113.9", reason="header \n" + "x" * 100_000 + " not accepted",
                 at=NINE)  # fmt: skip

    # then the count keeps 80 printable characters of it, marked as cut
    [reasons] = counts.take(before=None).values()
    [reason] = reasons
    assert len(reason) == 80 and reason.isprintable() and reason.startswith("header ?xxx") and reason.endswith("…")


def test_counts_the_trail_cannot_take_are_kept_and_written_later(engine: sa.Engine) -> None:
    # given ten counted refusals of a minute that is over, and a trail that is down
    clock = Clock(NINE)
    log = AuditLog(engine)
    writer = AuditWriter(log, clock=clock)
    down = True
    append_many = log.append_many

    def flaky(events: Sequence[AuditEvent]) -> list[int]:
        if down:
            raise AuditUnavailable("the audit event could not be written: OperationalError")
        return append_many(events)

    log.append_many = flaky  # type: ignore[method-assign]

    async def rounds() -> tuple[int, int]:
        nonlocal down
        for _ in range(10):
            writer.count_unauthenticated(claimed_client_id=None, address="203.0.113.9", reason="expired")
        clock.now = NINE + timedelta(minutes=1)
        first = await writer.write_refusals()
        down = False
        return first, await writer.write_refusals()

    # when the writer tries while the trail is down, and again once it is back
    first, second = asyncio.run(rounds())

    # then the first round wrote nothing and lost nothing: the second wrote the whole count
    assert (first, second) == (0, 1)
    assert [event["detail"] for event in stored_events(engine)] == ["10 refusals: expired (10); from 203.0.113.9"]


def test_what_is_still_counted_is_written_when_the_writer_stops(engine: sa.Engine) -> None:
    # given a running writer that counted refusals in the current minute
    clock = Clock(NINE + timedelta(seconds=5))

    async def run() -> None:
        async with AuditWriter(AuditLog(engine), clock=clock, every_seconds=3600) as writer:
            for _ in range(3):
                writer.count_unauthenticated(claimed_client_id=None, address="203.0.113.9", reason="expired")
            assert stored_events(engine) == []

    # when it stops (the hub shuts down) before the minute is over
    asyncio.run(run())

    # then the count is written all the same
    assert [event["detail"] for event in stored_events(engine)] == ["3 refusals: expired (3); from 203.0.113.9"]


# --- the claimed client id ---


def bearer(header: str | None) -> Request:
    headers = [(b"authorization", header.encode())] if header is not None else []
    return Request({"type": "http", "method": "POST", "path": "/graphql", "headers": headers})


CLAIMS = {
    "a JWT's client_id claim": ("Bearer " + bad_token({"client_id": "civil-nanan"}), "civil-nanan"),
    "no Authorization header": (None, None),
    "another scheme": ("Basic Y2l2aWw6c2VjcmV0", None),
    "not a JWT": ("Bearer not-a-jwt", None),
    "one segment only": ("Bearer " + segment({"client_id": "civil-nanan"}), None),
    "no client_id claim": ("Bearer " + bad_token({"sub": "civil-nanan"}), None),
    "a number": ("Bearer " + bad_token({"client_id": 42}), None),
    "too long": ("Bearer " + bad_token({"client_id": "x" * 101}), None),
    "a space": ("Bearer " + bad_token({"client_id": "civil nanan"}), None),
    "markup": ("Bearer " + bad_token({"client_id": "civil-nanan<script>"}), None),
    "a line break": ("Bearer " + bad_token({"client_id": "civil\nnanan"}), None),
}


@pytest.mark.parametrize(("authorization", "claimed"), list(CLAIMS.values()), ids=list(CLAIMS))
def test_the_claimed_client_id_is_taken_only_from_a_jwt_and_only_when_it_looks_like_one(
    authorization: str | None, claimed: str | None
) -> None:
    # given a request with this Authorization header, when its claimed client id is read
    # then it is the token's client_id claim if that has a client id's shape, else none
    assert claimed_client_id(bearer(authorization)) == claimed


# --- through the hub ---


@pytest.fixture
def hub(store_url: str, engine: sa.Engine) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=store_url, token_rate_limit=0))) as http:
        yield http


def test_a_flood_of_bad_tokens_through_the_hub_is_one_event_and_never_stores_a_token(
    store_url: str, engine: sa.Engine
) -> None:
    # given a hub, and a bad token claiming a registered client's id
    forged = bad_token({"client_id": "civil-nanan", "jti": "forged"})
    _within_one_minute()
    with TestClient(create_app(Settings(database_url=store_url, token_rate_limit=0))) as http:
        register(engine, "civil-nanan", roles=["civil-affairs"], purposes=["assistance-review"])
        # when 50 requests send it within a minute
        for _ in range(50):
            response = http.post("/graphql", json={"query": MEMBERS}, headers={"Authorization": f"Bearer {forged}"})
            assert response.status_code == 401
        # then none of them waited for an event: none is written while the hub runs the minute
        assert stored_events(engine) == []
    # and when the hub stops, one event holds the count of all 50
    [event] = stored_events(engine)
    assert event["outcome"] == "unauthenticated" and event["client_id"] is None
    assert event["detail"].startswith("50 refusals: ")
    assert event["detail"].endswith("; token claims client civil-nanan; from testclient")
    # and the token is nowhere in it
    assert forged not in str(event) and forged.split(".")[1] not in str(event)


def test_a_401_is_answered_while_the_trail_is_down(hub: TestClient, engine: sa.Engine) -> None:
    # given a hub whose audit table is gone (the trail cannot be written)
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_gone"))

    # when a request comes without a token, and one with a bad token
    missing = hub.post("/graphql", json={"query": MEMBERS})
    bad = hub.post("/graphql", json={"query": MEMBERS}, headers={"Authorization": f"Bearer {bad_token({})}"})

    # then both are answered 401 as always, not failed for want of an audit event
    assert [missing.status_code, bad.status_code] == [401, 401]
    assert missing.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


def test_a_401_does_not_wait_for_a_slow_trail(
    hub: TestClient, engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a trail whose writes hang for up to 3 seconds
    released = threading.Event()
    append_many = AuditLog.append_many

    def slow(self: AuditLog, events: Sequence[AuditEvent]) -> list[int]:
        released.wait(3)
        return append_many(self, events)

    monkeypatch.setattr(AuditLog, "append_many", slow)
    writer: AuditWriter = hub.app_state["audit"]
    # and an authenticated request's event still being written meanwhile
    assert hub.portal is not None
    pending = hub.portal.start_task_soon(writer.append, _an_answers_event())
    try:
        # when a request comes without a token
        started = time.monotonic()
        response = hub.post("/graphql", json={"query": MEMBERS})
        elapsed = time.monotonic() - started
    finally:
        released.set()
        pending.result(timeout=10)

    # then it is answered at once
    assert response.status_code == 401
    assert elapsed < 1.5


def test_refusals_of_an_authenticated_caller_are_still_one_event_each(hub: TestClient, engine: sa.Engine) -> None:
    # given a client whose token carries two purposes
    secret = register(engine, "civil-two", roles=["civil-affairs"], purposes=["assistance-review", "comparison"])
    bearer_token = token(hub, "civil-two", secret)

    # when it asks twice without naming one
    for _ in range(2):
        response = hub.post("/graphql", json={"query": MEMBERS}, headers={"Authorization": f"Bearer {bearer_token}"})
        assert response.status_code == 400

    # then each refusal is its own event, written before the answer, naming the client
    events = stored_events(engine)
    assert [(event["outcome"], event["client_id"], event["operation"]) for event in events] == [
        ("refused", "civil-two", "Members")
    ] * 2
    assert all(event["detail"].startswith("PURPOSE_REQUIRED: ") for event in events)
    # and the query they sent by its keyed hash
    assert [event["document_hash"] for event in events] == [document_hash(engine, MEMBERS)] * 2


def _an_answers_event() -> AuditEvent:
    return AuditEvent(at=datetime.now(UTC), client_id="civil-two", outcome="refused", detail="PURPOSE_REQUIRED")


def _within_one_minute() -> None:
    """Wait for the next minute if this one ends within 10 seconds, so that a burst falls in one minute."""
    left = 60 - datetime.now(UTC).second
    if left < 10:
        time.sleep(left + 0.1)
