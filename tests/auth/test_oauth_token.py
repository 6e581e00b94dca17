"""POST /oauth/token through a real Starlette app: client credentials, RFC 6749 errors, scopes, rate limit."""

from __future__ import annotations

import base64
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx2
import pytest
import sqlalchemy as sa
from starlette.applications import Starlette
from starlette.routing import Route
from starlette.testclient import TestClient

from aidgraph.db import create_engine
from auth.clients import register_client
from auth.limiter import FailureLockout, SlidingWindow
from auth.server import TokenService, TokenSettings, oauth_routes

SETTINGS = TokenSettings(
    issuer="https://hub.example.org", audience="aidgraph-test", lifetime=timedelta(minutes=5), rate_limit_per_minute=0
)
NANAN = "civil-affairs-nanan"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def hub_app(store_url: str, *, service: TokenService | None = None, routes: list[Route] | None = None) -> Starlette:
    """A hub holding only the OAuth routes (and any given), its store opened in the lifespan like the real app."""
    service = service or TokenService(SETTINGS)

    @contextlib.asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[dict[str, sa.Engine]]:
        engine = create_engine(store_url)
        yield {"engine": engine}
        engine.dispose()

    return Starlette(routes=[*oauth_routes(service.settings, service=service), *(routes or [])], lifespan=lifespan)


@contextlib.contextmanager
def running(app: Starlette) -> Iterator[TestClient]:
    with TestClient(app) as client:
        yield client


def register(
    engine: sa.Engine, client_id: str = NANAN, purposes: tuple[str, ...] = ("assistance-review", "comparison")
) -> str:
    _client, secret = register_client(
        engine,
        client_id=client_id,
        department="civil_affairs",
        roles=["civil-affairs"],
        regions=["350583"],
        purposes=purposes,
    )
    return secret


def basic(client_id: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()}


def request_token(http: TestClient, client_id: str, secret: str, *, via: str = "basic", **form: str) -> httpx2.Response:
    form = {"grant_type": "client_credentials", **form}
    if via == "basic":
        return http.post("/oauth/token", data=form, headers=basic(client_id, secret))
    return http.post("/oauth/token", data={**form, "client_id": client_id, "client_secret": secret})


def token_for(http: TestClient, client_id: str, secret: str, **form: str) -> str:
    response = request_token(http, client_id, secret, **form)
    assert response.status_code == 200, response.text
    token: str = response.json()["access_token"]
    return token


def segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


@pytest.fixture
def hub(store_url: str) -> Iterator[TestClient]:
    with running(hub_app(store_url)) as http:
        yield http


@pytest.mark.parametrize("via", ["basic", "post"])
def test_a_client_gets_an_rfc9068_token_with_all_its_purposes(engine: sa.Engine, hub: TestClient, via: str) -> None:
    # given a registered client
    secret = register(engine)
    # when it asks for a token with its secret, by HTTP Basic or in the form, without a scope
    response = request_token(hub, NANAN, secret, via=via)
    # then it gets a bearer token, not to be cached, for all its purposes
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert body["scope"] == "purpose:assistance-review purpose:comparison"
    # and the token is an ES256 at+jwt naming the issuer and audience exactly, with a jti
    header, claims = segment(body["access_token"], 0), segment(body["access_token"], 1)
    assert header["typ"] == "at+jwt" and header["alg"] == "ES256" and header["kid"]
    assert claims["iss"] == "https://hub.example.org" and claims["aud"] == "aidgraph-test"
    assert claims["client_id"] == claims["sub"] == NANAN
    assert claims["exp"] - claims["iat"] == 300
    assert len(claims["jti"]) >= 16
    assert claims["scope"] == body["scope"]


def test_a_client_may_narrow_its_token_to_one_purpose(engine: sa.Engine, hub: TestClient) -> None:
    secret = register(engine)
    response = request_token(hub, NANAN, secret, scope="purpose:comparison")
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "purpose:comparison"
    assert segment(response.json()["access_token"], 1)["scope"] == "purpose:comparison"


@pytest.mark.parametrize(
    "scope", ["purpose:student-aid", "purpose:comparison purpose:audit", "households:read", "purpose:", 'purpose:"x"']
)
def test_a_scope_outside_the_clients_purposes_is_invalid_scope(engine: sa.Engine, hub: TestClient, scope: str) -> None:
    secret = register(engine)
    response = request_token(hub, NANAN, secret, scope=scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert response.headers["cache-control"] == "no-store"
    assert "access_token" not in response.json()


@pytest.mark.parametrize("via", ["basic", "post"])
def test_a_wrong_secret_and_an_unknown_client_get_the_same_invalid_client(
    engine: sa.Engine, hub: TestClient, via: str
) -> None:
    # given a registered client
    secret = register(engine)
    # when a wrong secret is sent, and when an unknown client sends one
    wrong = request_token(hub, NANAN, secret[:-2] + "xx", via=via)
    unknown = request_token(hub, "civil-affairs-xiamen", secret, via=via)
    # then both get 401 invalid_client, with the same words: nothing says which client ids exist
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert response.json()["error"] == "invalid_client"
        assert response.headers["cache-control"] == "no-store"
        assert response.headers["www-authenticate"].startswith("Basic ")
    assert wrong.json() == unknown.json()


def test_a_disabled_client_gets_no_token(engine: sa.Engine, hub: TestClient) -> None:
    from auth.clients import disable_client

    secret = register(engine)
    disable_client(engine, NANAN, by="admin-wang")
    response = request_token(hub, NANAN, secret)
    assert response.status_code == 401 and response.json()["error"] == "invalid_client"


@pytest.mark.parametrize(
    ("send", "status", "error"),
    [
        ({"data": {"grant_type": "password", "username": "u", "password": "p"}}, 400, "unsupported_grant_type"),
        ({"data": {"grant_type": "client_credentials"}}, 401, "invalid_client"),
        ({"json": {"grant_type": "client_credentials"}}, 400, "invalid_request"),
        ({"content": "grant_type=client_credentials&grant_type=client_credentials"}, 400, "invalid_request"),
        ({"content": "grant_type=client_credentials&client_secret=s"}, 400, "invalid_request"),  # and Basic
        ({"content": "x=" + "a" * 20000}, 400, "invalid_request"),
    ],
)
def test_malformed_token_requests_get_rfc6749_errors(
    engine: sa.Engine, hub: TestClient, send: dict[str, Any], status: int, error: str
) -> None:
    secret = register(engine)
    headers = {} if "data" in send or "json" in send else {"Content-Type": "application/x-www-form-urlencoded"}
    with_basic = "client_secret=" in send.get("content", "") or "password" in str(send.get("data"))
    if with_basic:
        headers.update(basic(NANAN, secret))
    response = hub.post("/oauth/token", headers=headers, **send)
    assert response.status_code == status, response.text
    assert response.json()["error"] == error
    assert response.headers["cache-control"] == "no-store"


def test_the_token_endpoint_is_post_only(hub: TestClient) -> None:
    assert hub.get("/oauth/token").status_code == 405


def test_token_requests_beyond_the_limit_get_429_with_retry_after(store_url: str, engine: sa.Engine) -> None:
    # given a hub allowing 3 token requests per client per minute, and two clients
    clock = FakeClock()
    service = TokenService(SETTINGS, limiter=SlidingWindow(limit=3, window=60, clock=clock))
    secret = register(engine)
    other_secret = register(engine, "education-nanan")
    with running(hub_app(store_url, service=service)) as http:
        # when the first client asks four times within 20 seconds
        statuses = []
        for _ in range(4):
            statuses.append(request_token(http, NANAN, secret).status_code)
            clock.now += 5
        refused = request_token(http, NANAN, secret)
        # then the fourth is refused, saying when to come back (the first request leaves the window at +60 s)
        assert statuses == [200, 200, 200, 429]
        assert refused.status_code == 429
        assert refused.json()["error"] == "slow_down"
        assert refused.headers["retry-after"] == "40"
        assert refused.headers["cache-control"] == "no-store"
        # and another client is not affected
        assert request_token(http, "education-nanan", other_secret).status_code == 200
        # and once the window has moved on, the first client gets tokens again
        clock.now += 41
        assert request_token(http, NANAN, secret).status_code == 200
        # and wrong secrets do not use up a client's allowance (nobody can lock a client out)
        for _ in range(5):
            assert request_token(http, "education-nanan", "wrong").status_code == 401
        assert request_token(http, "education-nanan", other_secret).status_code == 200


def test_failed_token_requests_lock_out_the_claimed_client_and_the_address(store_url: str, engine: sa.Engine) -> None:
    # given a hub that locks out for 30 s after 3 failures within 30 s, and two clients
    clock = FakeClock()
    service = TokenService(SETTINGS, failures=FailureLockout(limit=3, window=30, lockout=30, clock=clock))
    secret = register(engine)
    other_secret = register(engine, "education-nanan")
    app = hub_app(store_url, service=service)
    with TestClient(app, client=("192.0.2.1", 5000)) as guesser:
        # when one address guesses the first client's secret three times
        assert [request_token(guesser, NANAN, f"guess-{n}").status_code for n in range(3)] == [401, 401, 401]
        # then the next request is refused before its secret is checked, even with the right secret
        locked = request_token(guesser, NANAN, secret)
        assert locked.status_code == 429
        assert locked.json()["error"] == "slow_down"
        assert locked.headers["retry-after"] == "30"
        # and so is that address asking for another client (client_secret_post alike)
        assert request_token(guesser, "education-nanan", other_secret, via="post").status_code == 429
    with TestClient(app, client=("192.0.2.2", 5000)) as elsewhere:
        # and the first client is locked out from another address too, the other client is not
        assert request_token(elsewhere, NANAN, secret).status_code == 429
        assert request_token(elsewhere, "education-nanan", other_secret).status_code == 200
        # and ids made up one after another lock out the address that tries them
        assert [request_token(elsewhere, f"made-up-{n}", "x").status_code for n in range(3)] == [401, 401, 401]
        assert request_token(elsewhere, "education-nanan", other_secret).status_code == 429
        # and once the lockout is over, the right secret gets a token again
        clock.now += 31
        assert request_token(elsewhere, NANAN, secret).status_code == 200


def test_an_http_issuer_other_than_loopback_is_refused() -> None:
    with pytest.raises(ValueError, match="must be an https URL"):
        TokenSettings(issuer="http://hub.example.org")
    assert TokenSettings(issuer="http://localhost:8000").issuer == "http://localhost:8000"
    with pytest.raises(ValueError, match="at most 0:15:00"):
        TokenSettings(lifetime=timedelta(minutes=16))
