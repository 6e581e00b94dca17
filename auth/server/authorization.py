"""authlib's generic AuthorizationServer bound to Starlette: client credentials, introspection, revocation.

authlib ships Flask and Django integrations only; this and `requests.py` are the Starlette one. The
whole authlib flow runs in a worker thread, because it checks scrypt hashes and reads the store.
A server is built per request around the request's engine; what outlives a request (key ring
copy, rate limiter) is held by `TokenService`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from authlib.oauth2.base import invalid_error_characters
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    ClientCredentialsGrant,
    ClientMixin,
    InvalidScopeError,
    OAuth2Error,
    OAuth2Request,
    TokenMixin,
)
from authlib.oauth2.rfc6749.util import extract_basic_authorization
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from starlette.responses import JSONResponse, Response

from auth.clients import Client, load_client, verify_client
from auth.limiter import FailureLockout, SlidingWindow, retry_after_header
from auth.principal import PURPOSE_SCOPE
from auth.server.config import TokenSettings
from auth.server.keystore import KeyRingCache
from auth.server.requests import StarletteOAuth2Request
from auth.server.revocations import revoke
from auth.server.signing import issue_access_token, validate_access_token
from auth.tokens import Claims, InvalidToken

log = logging.getLogger(__name__)

AUTH_METHODS = ["client_secret_basic", "client_secret_post"]
GRANT_TYPES = ["client_credentials"]


@dataclass
class TokenService:
    """What every request of one worker shares: settings, its copy of the key ring, its limiters.

    `limiter` counts token requests per client; `failures` counts failed ones per claimed client id
    and per address, and locks those out for a while (auth/limiter.py).
    """

    settings: TokenSettings
    keys: KeyRingCache = field(default_factory=KeyRingCache)
    limiter: SlidingWindow | None = None
    failures: FailureLockout | None = None

    def __post_init__(self) -> None:
        if self.limiter is None and self.settings.rate_limit_per_minute:
            self.limiter = SlidingWindow(limit=self.settings.rate_limit_per_minute, window=60.0)
        if self.failures is None and self.settings.failure_limit:
            lockout = self.settings.failure_lockout
            self.failures = FailureLockout(limit=self.settings.failure_limit, window=lockout, lockout=lockout)


# --- the client as authlib sees it ---


@dataclass(frozen=True)
class OAuthClient(ClientMixin):
    record: Client

    def get_client_id(self) -> str:
        return self.record.client_id

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in AUTH_METHODS

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in GRANT_TYPES


def _authenticate_basic(query_client: Any, request: StarletteOAuth2Request) -> OAuthClient | None:
    client_id, secret = extract_basic_authorization(request.headers)
    return _verify(request.engine, client_id, secret)


def _authenticate_post(query_client: Any, request: StarletteOAuth2Request) -> OAuthClient | None:
    return _verify(request.engine, request.form.get("client_id"), request.form.get("client_secret"))


def _verify(engine: sa.Engine, client_id: str | None, secret: str | None) -> OAuthClient | None:
    # Unknown client, wrong secret and disabled client all come back None: the same invalid_client,
    # after the same scrypt work (authlib's own methods would say which).
    if not client_id or not secret:
        return None
    client = verify_client(engine, client_id, secret)
    return OAuthClient(client) if client is not None else None


# --- the grant and the endpoints ---


class SlowDown(OAuth2Error):
    error = "slow_down"
    status_code = 429

    def __init__(self, retry_after: float) -> None:
        self.retry_after = retry_after_header(retry_after)
        super().__init__(description=f"too many token requests; retry in {self.retry_after} s")

    def get_headers(self) -> list[tuple[str, str]]:
        return [*super().get_headers(), ("Retry-After", self.retry_after)]


def granted_scope(client: Client, requested: str | None) -> list[str]:
    """`purpose:<code>` scopes among the client's purposes; all of them when none is asked for."""
    allowed = [PURPOSE_SCOPE + purpose for purpose in client.purposes]
    if not requested or not requested.strip():
        return allowed
    if invalid_error_characters(requested.replace(" ", "")):
        raise InvalidScopeError("malformed scope")
    wanted = list(dict.fromkeys(requested.split()))
    refused = [scope for scope in wanted if scope not in allowed]
    if refused:
        raise InvalidScopeError(f"scope not allowed for this client: {' '.join(refused)}")
    return wanted


class ClientCredentials(ClientCredentialsGrant):
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def validate_token_request(self) -> None:
        client: OAuthClient = self.authenticate_token_endpoint_client()
        self.request.client = client
        self.server.check_rate(client)
        self.request.scope = " ".join(granted_scope(client.record, self.request.payload.scope))

    def create_token_response(self) -> tuple[int, dict[str, Any], list[tuple[str, str]]]:
        token = self.generate_token(scope=self.request.scope, include_refresh_token=False)
        return 200, token, self.TOKEN_RESPONSE_HEADER


@dataclass(frozen=True)
class HubToken(TokenMixin):
    """A token that passed validation; `is_expired`/`is_revoked` were answered by it."""

    claims: Claims

    def check_client(self, client: OAuthClient) -> bool:
        return self.claims.client_id == client.get_client_id()

    def is_expired(self) -> bool:
        return False

    def is_revoked(self) -> bool:
        return False


class Introspection(IntrospectionEndpoint):
    """RFC 7662. A client may introspect only its own tokens; any other token is `active: false`."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> HubToken | None:
        return self.server.read_token(token_string, check_revoked=True)

    def check_permission(self, token: HubToken, client: OAuthClient, request: OAuth2Request) -> bool:
        # A token issued before the client's secret was rotated is refused at /graphql: inactive here too.
        return token.check_client(client) and client.record.accepts_token_issued_at(token.claims.issued_at)

    def introspect_token(self, token: HubToken) -> dict[str, Any]:
        claims = token.claims
        return {
            "active": True,
            "client_id": claims.client_id,
            "token_type": "Bearer",
            "scope": " ".join(claims.scope),
            "sub": claims.subject,
            "aud": list(claims.audience) if len(claims.audience) > 1 else claims.audience[0],
            "iss": claims.issuer,
            "exp": int(claims.expires_at.timestamp()),
            "iat": int(claims.issued_at.timestamp()),
            "jti": claims.jti,
        }


class Revocation(RevocationEndpoint):
    """RFC 7009 for JWTs: the token's id goes on the store's denylist until the token expires.

    The hub has no refresh tokens, so either hint is read as an access token. A token that is not
    valid (or expired) needs no revoking: the answer is 200 as the RFC asks.
    """

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> HubToken | None:
        return self.server.read_token(token_string, check_revoked=False)

    def revoke_token(self, token: HubToken, request: StarletteOAuth2Request) -> None:
        claims = token.claims
        revoke(request.engine, jti=claims.jti, client_id=claims.client_id, expires_at=claims.expires_at)


# --- the server ---


class HubAuthorizationServer(AuthorizationServer):
    """authlib's server with the framework methods it leaves to integrations, for one request's store."""

    def __init__(self, service: TokenService, engine: sa.Engine) -> None:
        super().__init__(scopes_supported=None)
        self.service = service
        self.engine = engine
        self.register_client_auth_method("client_secret_basic", _authenticate_basic)
        self.register_client_auth_method("client_secret_post", _authenticate_post)
        self.register_grant(ClientCredentials)
        self.register_token_generator("client_credentials", self._generate_token)
        self.register_endpoint(Introspection)
        self.register_endpoint(Revocation)

    # Framework methods authlib leaves to integrations.

    def query_client(self, client_id: str) -> OAuthClient | None:
        client = load_client(self.engine, client_id)
        return OAuthClient(client) if client is not None and not client.disabled else None

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Nothing to keep: the token is a self-contained JWT, and revocation stores only its id."""

    def create_oauth2_request(self, request: OAuth2Request) -> OAuth2Request:
        if not isinstance(request, StarletteOAuth2Request):
            raise TypeError("read the request with read_oauth_request first")
        return request

    def create_json_request(self, request: Any) -> Any:
        raise NotImplementedError("no JSON endpoints here")

    def handle_response(self, status: int, body: Any, headers: list[tuple[str, str]]) -> Response:
        return JSONResponse(body, status_code=status, headers=dict(headers))

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        if name == "after_revoke_token":
            log.info("token %s of client %s revoked", kwargs["token"].claims.jti, kwargs["client"].get_client_id())

    # The hub's own parts.

    def check_rate(self, client: OAuthClient) -> None:
        limiter = self.service.limiter
        wait = limiter.acquire(client.get_client_id()) if limiter is not None else None
        if wait is not None:
            raise SlowDown(wait)

    def read_token(self, token: str, *, check_revoked: bool) -> HubToken | None:
        try:
            service = self.service
            claims = validate_access_token(
                token, engine=self.engine, keys=service.keys, settings=service.settings, check_revoked=check_revoked
            )
        except InvalidToken:
            return None
        return HubToken(claims)

    def _generate_token(self, *, client: OAuthClient, scope: str, **_unused: Any) -> dict[str, Any]:
        settings = self.service.settings
        scopes = scope.split()
        ring = self.service.keys.ring(self.engine)
        access_token = issue_access_token(
            ring, settings, client_id=client.get_client_id(), scope=scopes, now=datetime.now(UTC)
        )
        return {
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": int(settings.lifetime.total_seconds()),
            "scope": scope,
        }
