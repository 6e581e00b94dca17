"""Introspection (RFC 7662) and revocation (RFC 7009): what is active, and a revocation every worker honours."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from auth.server import TokenService, load_ring
from auth.server.signing import issue_access_token
from auth.tables import revoked_token
from tests.auth.test_oauth_token import NANAN, SETTINGS, basic, hub_app, register, running, segment, token_for

EDUCATION = "education-nanan"


@pytest.fixture
def hub(store_url: str) -> Iterator[TestClient]:
    with running(hub_app(store_url)) as http:
        yield http


def introspect(http: TestClient, token: str, client_id: str, secret: str) -> dict[str, object]:
    response = http.post("/oauth/introspect", data={"token": token}, headers=basic(client_id, secret))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body: dict[str, object] = response.json()
    return body


def revoke(http: TestClient, token: str, client_id: str, secret: str) -> int:
    response = http.post("/oauth/revoke", data={"token": token}, headers=basic(client_id, secret))
    return response.status_code


def test_an_active_token_is_described(engine: sa.Engine, hub: TestClient) -> None:
    # given a token for one purpose
    secret = register(engine)
    token = token_for(hub, NANAN, secret, scope="purpose:comparison")
    # when its client introspects it
    body = introspect(hub, token, NANAN, secret)
    # then it is active, with what it grants and until when
    claims = segment(token, 1)
    assert body == {
        "active": True,
        "client_id": NANAN,
        "token_type": "Bearer",
        "scope": "purpose:comparison",
        "sub": NANAN,
        "aud": "aidgraph-test",
        "iss": "https://hub.example.org",
        "exp": claims["exp"],
        "iat": claims["iat"],
        "jti": claims["jti"],
    }


def test_expired_garbage_and_foreign_tokens_are_inactive(engine: sa.Engine, hub: TestClient) -> None:
    # given a client and another client's token, an expired token and a token with a broken signature
    secret = register(engine)
    other_secret = register(engine, EDUCATION)
    others = token_for(hub, EDUCATION, other_secret)
    ring = load_ring(engine)
    expired = issue_access_token(ring, SETTINGS, client_id=NANAN, scope=[], now=datetime.now(UTC) - timedelta(hours=1))
    mine = token_for(hub, NANAN, secret)
    tampered = mine[:-4] + ("AAAA" if not mine.endswith("AAAA") else "BBBB")
    # then each is inactive, and says nothing more
    for token in (others, expired, tampered, "not-a-token"):
        assert introspect(hub, token, NANAN, secret) == {"active": False}
    # while the other client sees its own token as active
    assert introspect(hub, others, EDUCATION, other_secret)["active"] is True


def test_introspection_needs_client_authentication(engine: sa.Engine, hub: TestClient) -> None:
    secret = register(engine)
    token = token_for(hub, NANAN, secret)
    assert hub.post("/oauth/introspect", data={"token": token}).status_code == 401
    response = hub.post("/oauth/introspect", data={"token": token}, headers=basic(NANAN, "wrong"))
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    # and a bearer token is no client authentication
    response = hub.post("/oauth/introspect", data={"token": token}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401


def test_a_revoked_token_is_inactive_and_denylisted_until_it_expires(engine: sa.Engine, hub: TestClient) -> None:
    # given an active token
    secret = register(engine)
    token = token_for(hub, NANAN, secret)
    # when its client revokes it, twice
    assert revoke(hub, token, NANAN, secret) == 200
    assert revoke(hub, token, NANAN, secret) == 200
    # then it is inactive
    assert introspect(hub, token, NANAN, secret) == {"active": False}
    # and the store holds its id once, until the token's own expiry
    with engine.connect() as connection:
        rows = connection.execute(sa.select(revoked_token)).mappings().all()
    claims = segment(token, 1)
    assert [(row["jti"], row["client_id"]) for row in rows] == [(claims["jti"], NANAN)]
    assert rows[0]["expires_at"].replace(tzinfo=UTC).timestamp() == claims["exp"]


def test_revoking_garbage_is_200_and_another_clients_token_is_refused(engine: sa.Engine, hub: TestClient) -> None:
    secret = register(engine)
    other_secret = register(engine, EDUCATION)
    others = token_for(hub, EDUCATION, other_secret)
    # RFC 7009 §2.2: an invalid token needs no revoking, and the answer is still 200
    assert revoke(hub, "not-a-token", NANAN, secret) == 200
    # but a client cannot revoke another client's token
    response = hub.post("/oauth/revoke", data={"token": others}, headers=basic(NANAN, secret))
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"
    assert introspect(hub, others, EDUCATION, other_secret)["active"] is True
    # and revocation, too, needs the client's secret
    assert revoke(hub, others, EDUCATION, "wrong") == 401
    assert introspect(hub, others, EDUCATION, other_secret)["active"] is True


def test_expired_revocations_are_purged(engine: sa.Engine, hub: TestClient) -> None:
    # given an old revocation whose token has long expired
    secret = register(engine)
    long_ago = datetime.now(UTC) - timedelta(days=1)
    with engine.begin() as connection:
        connection.execute(
            revoked_token.insert().values(jti="old", client_id=NANAN, expires_at=long_ago, revoked_at=long_ago)
        )
    # when another token is revoked
    assert revoke(hub, token_for(hub, NANAN, secret), NANAN, secret) == 200
    # then only the new revocation remains
    with engine.connect() as connection:
        assert "old" not in connection.execute(sa.select(revoked_token.c.jti)).scalars().all()
        assert connection.execute(sa.select(sa.func.count()).select_from(revoked_token)).scalar_one() == 1


def test_a_revocation_on_one_worker_is_honoured_by_another(store_url: str, engine: sa.Engine) -> None:
    # given two workers (two app instances, each with its own memory) on one store
    secret = register(engine)
    with (
        running(hub_app(store_url, service=TokenService(SETTINGS))) as worker1,
        running(hub_app(store_url, service=TokenService(SETTINGS))) as worker2,
    ):
        # and a token from the first that the second accepts
        token = token_for(worker1, NANAN, secret)
        assert introspect(worker2, token, NANAN, secret)["active"] is True
        # when the first worker revokes it
        assert revoke(worker1, token, NANAN, secret) == 200
        # then the second refuses it from then on
        assert introspect(worker2, token, NANAN, secret) == {"active": False}
