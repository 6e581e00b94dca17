"""Bearer token -> Principal: the hub's own tokens, a trusted external issuer, and every refusal as a 401."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx2
import pytest
import sqlalchemy as sa
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from auth.authenticate import (
    REVOCATION_REFRESH_SECONDS,
    Authenticator,
    ExternalIssuer,
    Unauthenticated,
    unauthenticated_response,
)
from auth.clients import disable_client
from auth.keys import KeyRing
from auth.server import KeyRingCache, TokenService, load_ring
from auth.server.signing import issue_access_token
from auth.tokens import TokenIssuer
from tests.auth.test_oauth_token import NANAN, SETTINGS, FakeClock, basic, hub_app, register, running, token_for
from tests.auth.test_tokens import ec_private_key, forge_es256, good_header

EXTERNAL_AUDIENCE = "aidgraph-test"


def whoami_route(authenticator: Authenticator) -> Route:
    """A protected route standing for /graphql."""

    async def whoami(request: Request) -> Response:
        try:
            principal = await authenticator.authenticate(request)
        except Unauthenticated as problem:
            return unauthenticated_response(problem)
        return JSONResponse(
            {
                "client_id": principal.client_id,
                "department": principal.department,
                "roles": sorted(principal.roles),
                "regions": list(principal.regions),
                "purposes": sorted(principal.purposes),
                "token_purposes": sorted(principal.token_purposes),
                "pseudonym_key_bytes": len(principal.pseudonym_key),
                "jti": principal.jti,
            }
        )

    return Route("/whoami", whoami, methods=["GET"])


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


def whoami(http: TestClient, token: str) -> httpx2.Response:
    return http.get("/whoami", headers={"Authorization": f"Bearer {token}"})


def refusal(response: httpx2.Response) -> str:
    """The error_description of a 401, after checking the 401 says it the GraphQL way too."""
    assert response.status_code == 401
    assert response.headers["cache-control"] == "no-store"
    assert response.json()["errors"][0]["extensions"] == {"code": "UNAUTHENTICATED"}
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="aidgraph", error="invalid_token", error_description="')
    return challenge.split('error_description="')[1].rstrip('"')


def test_a_hub_token_becomes_the_principal_of_its_registered_client(engine: sa.Engine, hub: TestClient) -> None:
    # given a client's token for one purpose
    secret = register(engine)
    token = token_for(hub, NANAN, secret, scope="purpose:comparison")
    # when it calls a protected route
    response = whoami(hub, token)
    # then the route sees the client as registered, with the token's purpose
    assert response.status_code == 200, response.text
    seen = response.json()
    assert len(seen.pop("jti")) >= 16
    assert seen == {
        "client_id": NANAN,
        "department": "civil_affairs",
        "roles": ["civil-affairs"],
        "regions": ["350583"],
        "purposes": ["assistance-review", "comparison"],
        "token_purposes": ["comparison"],
        "pseudonym_key_bytes": 32,
    }


def test_no_credentials_get_a_bare_challenge(hub: TestClient) -> None:
    # RFC 6750 §3.1: a request without credentials gets no error code, just the scheme to use
    response = hub.get("/whoami")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="aidgraph"'
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert "Bearer" in response.json()["errors"][0]["message"]


def test_bad_tokens_are_refused_saying_why(engine: sa.Engine, hub: TestClient) -> None:
    # given a client, an expired token and a token for a client nobody registered
    secret = register(engine)
    ring = load_ring(engine)
    expired = issue_access_token(ring, SETTINGS, client_id=NANAN, scope=[], now=datetime.now(UTC) - timedelta(hours=1))
    stranger = issue_access_token(ring, SETTINGS, client_id="stranger", scope=[])
    # then each is refused, the reason in the challenge
    assert refusal(whoami(hub, expired)) == "expired"
    assert refusal(whoami(hub, stranger)) == "unknown client"
    assert refusal(whoami(hub, "not-a-token")) == "malformed token"
    assert refusal(hub.get("/whoami", headers=basic(NANAN, secret))).startswith("the Authorization header is not")
    assert refusal(hub.get("/whoami", headers={"Authorization": "Bearer a b"})).startswith("the Authorization")


def test_a_revoked_token_is_refused_within_the_denylist_refresh(
    engine: sa.Engine, hub: TestClient, clock: FakeClock
) -> None:
    # given a token that works
    secret = register(engine)
    token = token_for(hub, NANAN, secret)
    assert whoami(hub, token).status_code == 200
    # when it is revoked, and the second a worker may keep its copy of the denylist has passed
    assert hub.post("/oauth/revoke", data={"token": token}, headers=basic(NANAN, secret)).status_code == 200
    clock.now += REVOCATION_REFRESH_SECONDS
    # then it is refused
    assert refusal(whoami(hub, token)) == "revoked"


def test_a_disabled_clients_tokens_stop_working_within_seconds(
    engine: sa.Engine, hub: TestClient, clock: FakeClock
) -> None:
    # given a client whose token works
    token = token_for(hub, NANAN, register(engine))
    assert whoami(hub, token).status_code == 200
    # when it is disabled, and the few seconds its record may be cached have passed
    disable_client(engine, NANAN, by="admin-wang")
    clock.now += 5
    # then its token is refused
    assert refusal(whoami(hub, token)) == "client disabled"


def test_the_401_response_escapes_what_a_header_cannot_hold() -> None:
    response = unauthenticated_response(Unauthenticated('bad "token" \\ 签名'))
    assert response.headers["www-authenticate"].endswith('error_description="bad token  "')
    assert json.loads(bytes(response.body))["errors"][0]["message"] == 'access token refused: bad "token" \\ 签名'


# --- an external issuer the test runs itself ---


class LocalIssuer:
    """A tiny OAuth issuer on 127.0.0.1: serves its JWKS over HTTP and signs RFC 9068 tokens with its own key."""

    def __init__(self) -> None:
        self.ring = KeyRing.generate(now=datetime.now(UTC))
        self.fetches = 0
        issuer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (the http.server name)
                issuer.fetches += 1
                body = json.dumps(issuer.ring.jwks()).encode()
                self.send_response(200 if self.path == "/jwks" else 404)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def token(self, client_id: str, *, audience: str = EXTERNAL_AUDIENCE, scope: list[str] | None = None) -> str:
        issuer = TokenIssuer(self.ring, issuer=self.url, audience=audience, lifetime=timedelta(minutes=5))
        return issuer.issue(client_id=client_id, scope=scope or [])

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def local_issuer() -> Iterator[LocalIssuer]:
    issuer = LocalIssuer()
    yield issuer
    issuer.stop()


@pytest.fixture
def trusting_hub(store_url: str, local_issuer: LocalIssuer) -> Iterator[TestClient]:
    external = ExternalIssuer(
        issuer=local_issuer.url,
        jwks_url=f"{local_issuer.url}/jwks",
        audience=EXTERNAL_AUDIENCE,
        refetch_interval_seconds=0,
    )
    authenticator = Authenticator(SETTINGS, external=external)
    with running(hub_app(store_url, routes=[whoami_route(authenticator)])) as http:
        yield http


def test_tokens_of_a_trusted_external_issuer_map_to_registered_clients(
    engine: sa.Engine, trusting_hub: TestClient, local_issuer: LocalIssuer
) -> None:
    # given a client registered at the hub, and a token the external issuer gave it
    secret = register(engine)
    token = local_issuer.token(NANAN, scope=["purpose:assistance-review"])
    # when it calls the hub
    response = whoami(trusting_hub, token)
    # then it is that client, with the purpose its token carries
    assert response.status_code == 200, response.text
    assert response.json()["client_id"] == NANAN
    assert response.json()["token_purposes"] == ["assistance-review"]
    # and the issuer's keys were fetched once and kept
    assert whoami(trusting_hub, local_issuer.token(NANAN)).status_code == 200
    assert local_issuer.fetches == 1
    # and the hub's own tokens still work beside them
    assert whoami(trusting_hub, token_for(trusting_hub, NANAN, secret)).status_code == 200


def test_a_rotated_external_key_is_fetched_on_its_first_token(
    engine: sa.Engine, trusting_hub: TestClient, local_issuer: LocalIssuer
) -> None:
    register(engine)
    assert whoami(trusting_hub, local_issuer.token(NANAN)).status_code == 200
    # when the external issuer starts signing with a new key
    local_issuer.ring.rotate(now=datetime.now(UTC))
    # then the hub fetches the key set again and accepts the token
    assert whoami(trusting_hub, local_issuer.token(NANAN)).status_code == 200
    assert local_issuer.fetches == 2


def test_external_tokens_are_refused_when_they_do_not_fit(
    engine: sa.Engine, trusting_hub: TestClient, local_issuer: LocalIssuer
) -> None:
    register(engine)
    # a token for another audience, or for a client the hub does not know
    assert refusal(whoami(trusting_hub, local_issuer.token(NANAN, audience="someone-else"))) == "wrong audience"
    assert refusal(whoami(trusting_hub, local_issuer.token("stranger"))) == "unknown client"
    # a token naming the external issuer but signed with a key it never published
    impostor = KeyRing.generate(now=datetime.now(UTC))
    forged = TokenIssuer(impostor, issuer=local_issuer.url, audience=EXTERNAL_AUDIENCE, lifetime=timedelta(minutes=5))
    assert refusal(whoami(trusting_hub, forged.issue(client_id=NANAN, scope=[]))) == "unknown key id"
    # and a token naming the hub as issuer but signed with the external issuer's key
    claims_hub = TokenIssuer(
        local_issuer.ring, issuer=SETTINGS.issuer, audience=SETTINGS.audience, lifetime=timedelta(minutes=5)
    )
    assert refusal(whoami(trusting_hub, claims_hub.issue(client_id=NANAN, scope=[]))) == "unknown key id"


def its_own_claims(issuer: str, audience: str, **changes: object) -> dict[str, object]:
    now = int(datetime.now(UTC).timestamp())
    claims = {"iss": issuer, "sub": NANAN, "aud": audience, "exp": now + 300, "iat": now, "nbf": now}
    return {**claims, "jti": f"jti-{now}", "client_id": NANAN, **changes}


def test_an_external_issuer_keeps_its_own_subjects_and_lifetimes_and_the_hub_does_not(
    engine: sa.Engine, trusting_hub: TestClient, local_issuer: LocalIssuer
) -> None:
    # given a registered client, and a subject and a lifetime the hub itself never gives
    register(engine)
    two_hours = int(datetime.now(UTC).timestamp()) + 7200
    # when the external issuer signs its token so (a person acting through the client, for two hours)
    external = local_issuer.ring.current
    person = its_own_claims(local_issuer.url, EXTERNAL_AUDIENCE, sub="person-4711")
    lasting = its_own_claims(local_issuer.url, EXTERNAL_AUDIENCE, exp=two_hours)
    # then the hub accepts both as the client
    for claims in (person, lasting):
        response = whoami(trusting_hub, forge_es256(good_header(external), claims, ec_private_key(external)))
        assert response.status_code == 200, response.text
        assert response.json()["client_id"] == NANAN
    # and refuses the same tokens signed with its own key, in its own name
    own = load_ring(engine).current
    person = its_own_claims(SETTINGS.issuer, SETTINGS.audience, sub="person-4711")
    lasting = its_own_claims(SETTINGS.issuer, SETTINGS.audience, exp=two_hours)
    assert refusal(whoami(trusting_hub, forge_es256(good_header(own), person, ec_private_key(own)))) == (
        "sub is not the client_id"
    )
    assert refusal(whoami(trusting_hub, forge_es256(good_header(own), lasting, ec_private_key(own)))) == (
        "exp beyond the maximum lifetime"
    )


def test_an_unreachable_external_issuer_refuses_its_tokens(store_url: str, engine: sa.Engine) -> None:
    # given a hub trusting an issuer whose key set cannot be fetched (it stopped)
    issuer = LocalIssuer()
    issuer.stop()
    register(engine)
    external = ExternalIssuer(issuer=issuer.url, jwks_url=f"{issuer.url}/jwks", audience=EXTERNAL_AUDIENCE)
    authenticator = Authenticator(SETTINGS, external=external)
    with running(hub_app(store_url, routes=[whoami_route(authenticator)])) as http:
        # then its tokens are refused, saying why
        assert refusal(whoami(http, issuer.token(NANAN))) == "the issuer's keys are unavailable"


def test_an_external_jwks_url_must_be_https_unless_loopback() -> None:
    with pytest.raises(ValueError, match="must be https"):
        ExternalIssuer(issuer="https://idp.example.org", jwks_url="http://idp.example.org/jwks", audience="a")
