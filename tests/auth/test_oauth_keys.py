"""The shared signing keys over HTTP: JWKS, RFC 8414 metadata, rotation, and one ring for all workers."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from starlette.testclient import TestClient

from auth.keys import KeyRing
from auth.server import KeyRingCache, TokenService, load_ring, rotate_ring
from auth.server.keystore import ISSUING_MAX_AGE, SIGNING_KEYS, load_ring_text
from auth.tables import hub_secret
from tests.auth.test_oauth_token import (
    NANAN,
    SETTINGS,
    FakeClock,
    basic,
    hub_app,
    register,
    running,
    segment,
    token_for,
)

PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi"}


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def hub(store_url: str, clock: FakeClock) -> Iterator[TestClient]:
    service = TokenService(SETTINGS, keys=KeyRingCache(clock=clock))
    with running(hub_app(store_url, service=service)) as http:
        yield http


def introspect(http: TestClient, token: str, secret: str) -> dict[str, object]:
    response = http.post("/oauth/introspect", data={"token": token}, headers=basic(NANAN, secret))
    assert response.status_code == 200, response.text
    body: dict[str, object] = response.json()
    return body


def test_jwks_publishes_the_public_signing_key_only(engine: sa.Engine, hub: TestClient) -> None:
    # given a token issued by the hub
    token = token_for(hub, NANAN, register(engine))
    # when the key set is fetched
    response = hub.get("/.well-known/jwks.json")
    # then it holds the key that signed the token, public members only
    assert response.status_code == 200
    keys = response.json()["keys"]
    assert [key["kid"] for key in keys] == [segment(token, 0)["kid"]]
    assert keys[0]["kty"] == "EC" and keys[0]["crv"] == "P-256" and keys[0]["alg"] == "ES256"
    assert keys[0]["use"] == "sig"
    assert not PRIVATE_MEMBERS & keys[0].keys()
    # and the ring itself (private keys included) lives in the store, shared by every worker
    with engine.connect() as connection:
        stored = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == SIGNING_KEYS)).scalar_one()
    assert KeyRing.from_json(stored).current.kid == keys[0]["kid"]


def test_metadata_names_the_endpoints_under_the_exact_issuer(hub: TestClient) -> None:
    response = hub.get("/.well-known/oauth-authorization-server")
    assert response.status_code == 200
    metadata = response.json()
    assert metadata["issuer"] == "https://hub.example.org"
    assert metadata["token_endpoint"] == "https://hub.example.org/oauth/token"
    assert metadata["jwks_uri"] == "https://hub.example.org/.well-known/jwks.json"
    assert metadata["introspection_endpoint"] == "https://hub.example.org/oauth/introspect"
    assert metadata["revocation_endpoint"] == "https://hub.example.org/oauth/revoke"
    assert metadata["grant_types_supported"] == ["client_credentials"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    # and authlib's RFC 8414 checks agree (response types aside: there is no authorization endpoint)
    checked = AuthorizationServerMetadata(metadata)
    for key in AuthorizationServerMetadata.REGISTRY_KEYS:
        if key != "response_types_supported":
            getattr(checked, f"validate_{key}")()


def test_rotation_keeps_the_old_key_published_and_its_tokens_valid(
    engine: sa.Engine, hub: TestClient, clock: FakeClock
) -> None:
    # given a token signed with the first key
    secret = register(engine)
    old_token = token_for(hub, NANAN, secret)
    old_kid = segment(old_token, 0)["kid"]
    # when the keys are rotated (as `aidgraph keys rotate` does) and the worker's copy is due for reload
    new_kid = rotate_ring(engine).current.kid
    clock.now += ISSUING_MAX_AGE
    # then new tokens are signed with the new key
    new_token = token_for(hub, NANAN, secret)
    assert segment(new_token, 0)["kid"] == new_kid != old_kid
    # and the key set publishes both
    assert {key["kid"] for key in hub.get("/.well-known/jwks.json").json()["keys"]} == {old_kid, new_kid}
    # and tokens signed with either are still active
    assert introspect(hub, old_token, secret)["active"] is True
    assert introspect(hub, new_token, secret)["active"] is True


def test_a_key_rotated_elsewhere_is_picked_up_on_its_first_token(
    store_url: str, engine: sa.Engine, clock: FakeClock
) -> None:
    # given two workers on one store; the first has read the ring already
    secret = register(engine)
    first = TokenService(SETTINGS, keys=KeyRingCache(clock=clock))
    second = TokenService(SETTINGS, keys=KeyRingCache(clock=clock))
    with running(hub_app(store_url, service=first)) as worker1, running(hub_app(store_url, service=second)) as worker2:
        token_for(worker1, NANAN, secret)
        # when the keys are rotated and the second worker, starting fresh, signs with the new key
        rotate_ring(engine)
        new_token = token_for(worker2, NANAN, secret)
        # then the first worker, whose copy is not due for reload, still accepts it: the unknown kid made it re-read
        clock.now += 2
        assert introspect(worker1, new_token, secret)["active"] is True
        # and serves the new key in its key set
        kids = {key["kid"] for key in worker1.get("/.well-known/jwks.json").json()["keys"]}
        assert segment(new_token, 0)["kid"] in kids


def test_workers_starting_together_create_one_ring(engine: sa.Engine) -> None:
    # when eight workers read the ring at once on an empty store
    texts: list[str] = []
    barrier = threading.Barrier(8)

    def start() -> None:
        barrier.wait()
        texts.append(load_ring_text(engine))

    threads = [threading.Thread(target=start) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then they all got the same ring, the one stored
    assert len(texts) == 8 and len(set(texts)) == 1
    assert load_ring(engine).current.kid == KeyRing.from_json(texts[0]).current.kid
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(hub_secret)).scalar_one() == 1
