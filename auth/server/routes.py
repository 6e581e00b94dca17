"""The authorization server's HTTP routes: token, introspection, revocation, JWKS and RFC 8414 metadata."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from authlib.oauth2.rfc6749 import OAuth2Error
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from adapters.outage import OUTAGE_RETRY_AFTER_SECONDS, store_unavailable
from auth.server.authorization import AUTH_METHODS, GRANT_TYPES, HubAuthorizationServer, SlowDown, TokenService
from auth.server.config import TokenSettings
from auth.server.keystore import RELOAD_INTERVAL
from auth.server.requests import StarletteOAuth2Request, error_response, read_oauth_request

EngineSource = Callable[[Request], sa.Engine]
ServerCall = Callable[[HubAuthorizationServer, StarletteOAuth2Request], Response]

TOKEN_PATH = "/oauth/token"
INTROSPECTION_PATH = "/oauth/introspect"
REVOCATION_PATH = "/oauth/revoke"
JWKS_PATH = "/.well-known/jwks.json"
METADATA_PATH = "/.well-known/oauth-authorization-server"
# Resource servers may keep the key set this long; they must fetch it again on an unknown key id.
JWKS_MAX_AGE = 60


def engine_from_state(request: Request) -> sa.Engine:
    """The store the app's lifespan opened (`yield {"engine": ...}`)."""
    engine: sa.Engine = request.state.engine
    return engine


def oauth_routes(
    settings: TokenSettings, *, engine: EngineSource = engine_from_state, service: TokenService | None = None
) -> list[Route]:
    """The routes to mount at the app's root; pass `service` to share its key ring copy with an Authenticator."""
    service = service or TokenService(settings)
    if service.settings != settings:
        raise ValueError("service and routes must use the same token settings")

    async def answer(request: Request, call: ServerCall, *, count_failures: bool = False) -> Response:
        try:
            return await _answer(request, call, count_failures=count_failures)
        except Exception as error:  # the store away: the same request succeeds once it is back
            if not store_unavailable(error):
                raise
            return store_away()

    async def _answer(request: Request, call: ServerCall, *, count_failures: bool) -> Response:
        store = engine(request)
        try:
            oauth_request = await read_oauth_request(request, settings=settings, engine=store)
        except OAuth2Error as error:
            return error_response(error)
        failures, keys = service.failures, _failure_keys(request, oauth_request)
        if count_failures and failures is not None:
            # Refused before the secret is checked: a guessing loop gets neither an answer nor scrypt work.
            wait = failures.locked(*keys)
            if wait is not None:
                return error_response(SlowDown(wait))
        # authlib is synchronous and the flow checks a scrypt hash and reads the store: off the event loop.
        response = await run_in_threadpool(call, HubAuthorizationServer(service, store), oauth_request)
        if count_failures and failures is not None:
            if response.status_code == 401:  # invalid_client: unknown, wrong secret or disabled alike
                failures.failed(*keys)
            elif response.status_code == 200:
                failures.succeeded(*keys)
        return response

    async def token(request: Request) -> Response:
        return await answer(request, lambda server, oauth: server.create_token_response(oauth), count_failures=True)

    async def introspect(request: Request) -> Response:
        return await answer(request, lambda server, oauth: server.create_endpoint_response("introspection", oauth))

    async def revoke(request: Request) -> Response:
        return await answer(request, lambda server, oauth: server.create_endpoint_response("revocation", oauth))

    async def jwks(request: Request) -> Response:
        try:
            ring = await run_in_threadpool(service.keys.ring, engine(request), max_age=RELOAD_INTERVAL)
        except Exception as error:
            if not store_unavailable(error):
                raise
            return store_away()
        return JSONResponse(ring.jwks(), headers={"Cache-Control": f"public, max-age={JWKS_MAX_AGE}"})

    document = server_metadata(settings)

    async def metadata(_request: Request) -> Response:
        return JSONResponse(document, headers={"Cache-Control": "public, max-age=3600"})

    return [
        Route(TOKEN_PATH, token, methods=["POST"]),
        Route(INTROSPECTION_PATH, introspect, methods=["POST"]),
        Route(REVOCATION_PATH, revoke, methods=["POST"]),
        Route(JWKS_PATH, jwks, methods=["GET"]),
        Route(METADATA_PATH, metadata, methods=["GET"]),
    ]


def store_away() -> Response:
    """503 while the store is away (RFC 6749's `temporarily_unavailable`); nothing was counted as a failure."""
    body = {"error": "temporarily_unavailable", "error_description": "the hub's store did not answer; try again later"}
    headers = {"Retry-After": str(OUTAGE_RETRY_AFTER_SECONDS), "Cache-Control": "no-store"}
    return JSONResponse(body, status_code=503, headers=headers)


def _failure_keys(request: Request, oauth_request: StarletteOAuth2Request) -> tuple[str, ...]:
    """The claimed client id (Basic or form; unverified, only counted) and the remote address."""
    claimed, _secret = extract_basic_authorization(oauth_request.headers)
    claimed = claimed or oauth_request.form.get("client_id")
    keys = []
    if claimed:
        keys.append("client:" + claimed[:100])  # longer ids are never registered (auth.clients)
    if request.client is not None:
        keys.append("address:" + request.client.host)
    return tuple(keys)


def server_metadata(settings: TokenSettings) -> dict[str, Any]:
    """RFC 8414 §2. No authorization endpoint: client credentials never involve a browser."""
    return {
        "issuer": settings.issuer,
        "token_endpoint": settings.endpoint(TOKEN_PATH),
        "jwks_uri": settings.endpoint(JWKS_PATH),
        "grant_types_supported": GRANT_TYPES,
        "response_types_supported": [],
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint": settings.endpoint(INTROSPECTION_PATH),
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint": settings.endpoint(REVOCATION_PATH),
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
    }
