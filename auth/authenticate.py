"""Who is asking: a request's bearer token turned into a Principal, or a reason for a 401.

Tokens come from this hub (checked against the shared key ring and the revocation denylist) or, when
configured, from one trusted external issuer (checked against its published JWKS). Either way the
token names a registered client (`client_id`), and the client's record decides roles and regions.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.error import URLError

import sqlalchemy as sa
from authlib.common.security import is_secure_transport
from starlette.requests import Request
from starlette.responses import JSONResponse

from auth.clients import Client, ClientError, check_client_id, load_client
from auth.principal import Principal, token_purposes
from auth.server.config import TokenSettings
from auth.server.keystore import KeyRingCache
from auth.server.revocations import revoked_ids
from auth.server.routes import EngineSource, engine_from_state
from auth.server.signing import CLOCK_SKEW_SECONDS, validate_access_token
from auth.tokens import Claims, InvalidToken, TokenValidator

# A disabled client, and the tokens issued before its secret was rotated, are refused by every worker
# within this many seconds.
CLIENT_CACHE_SECONDS = 5.0
# A revoked token is refused by every worker within this many seconds (each reads the denylist again).
REVOCATION_REFRESH_SECONDS = 1.0
# Tokens whose signature and claims one worker already checked (until they expire).
VERIFIED_TOKENS_KEPT = 10_000
REALM = "aidgraph"
_MAX_JWKS_BYTES = 256 * 1024


class Unauthenticated(Exception):
    """The request does not prove who it comes from. `error` is None when it sent no credentials at all."""

    def __init__(self, reason: str, *, error: str | None = "invalid_token") -> None:
        super().__init__(reason)
        self.reason = reason
        self.error = error


def unauthenticated_response(problem: Unauthenticated) -> JSONResponse:
    """401 as GraphQL clients read it, with the RFC 6750 challenge HTTP clients read."""
    challenge = f'Bearer realm="{REALM}"'
    if problem.error is not None:  # RFC 6750 §3.1: no error code when no credentials were sent
        challenge += f', error="{problem.error}", error_description="{_quotable(problem.reason)}"'
    message = f"access token refused: {problem.reason}" if problem.error else problem.reason
    return JSONResponse(
        {"errors": [{"message": message, "extensions": {"code": "UNAUTHENTICATED"}}]},
        status_code=401,
        headers={"WWW-Authenticate": challenge, "Cache-Control": "no-store"},
    )


def _quotable(text: str) -> str:
    return "".join(
        character for character in text if character.isascii() and character.isprintable() and character not in '"\\'
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthenticated("send Authorization: Bearer <access token> (from POST /oauth/token)", error=None)
    scheme, _, token = header.partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise Unauthenticated("the Authorization header is not 'Bearer <access token>'")
    return token


# --- an external issuer ---


@dataclass(frozen=True)
class ExternalIssuer:
    """A trusted OIDC / OAuth issuer whose RFC 9068 access tokens (typ at+jwt, with a client_id claim) we accept."""

    issuer: str
    jwks_url: str = field(repr=False)  # may carry credentials
    audience: str
    fetch_timeout_seconds: float = 3.0
    cache_seconds: float = 300.0
    # An unknown key id fetches the key set again, but not more often than this.
    refetch_interval_seconds: float = 10.0

    def __post_init__(self) -> None:
        if not self.issuer or not self.audience:
            raise ValueError("an external issuer needs its issuer and audience")
        if not is_secure_transport(self.jwks_url):
            raise ValueError(f"external JWKS URL {self.jwks_url!r} must be https (plain http only on localhost)")


JwksFetcher = Callable[[str, float], Mapping[str, Any]]


def fetch_jwks(url: str, timeout: float) -> Mapping[str, Any]:
    with urllib.request.urlopen(url, timeout=timeout) as response:  # https or loopback: ExternalIssuer checks
        body = response.read(_MAX_JWKS_BYTES + 1)
    if len(body) > _MAX_JWKS_BYTES:
        raise ValueError("key set too large")
    keys = json.loads(body)
    if not isinstance(keys, dict) or not isinstance(keys.get("keys"), list):
        raise ValueError("not a JWK set")
    return keys


class RemoteJwks:
    """An issuer's published keys, kept for a while and fetched again when a token names a new one."""

    def __init__(self, issuer: ExternalIssuer, *, fetch: JwksFetcher = fetch_jwks, clock: Callable[[], float]) -> None:
        self._issuer = issuer
        self._fetch = fetch
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: Mapping[str, Any] | None = None
        self._fetched_at = 0.0
        self._failed_at: float | None = None

    def keys(self, *, max_age: float | None = None) -> Mapping[str, Any]:
        limit = self._issuer.cache_seconds if max_age is None else max_age
        with self._lock:
            if self._keys is None or self._clock() - self._fetched_at >= limit:
                self._refetch()
            assert self._keys is not None
            return self._keys

    def fresh(self) -> Mapping[str, Any]:
        return self.keys(max_age=self._issuer.refetch_interval_seconds)

    def _refetch(self) -> None:
        now = self._clock()
        # While the issuer is down, do not make every request wait for the fetch to time out.
        recently_failed = self._failed_at is not None and now - self._failed_at < self._issuer.refetch_interval_seconds
        if recently_failed and self._keys is None:
            raise InvalidToken("the issuer's keys are unavailable")
        try:
            keys = self._fetch(self._issuer.jwks_url, self._issuer.fetch_timeout_seconds)
        except (URLError, OSError, ValueError) as error:
            self._failed_at = now
            if self._keys is None:  # with an older copy, keep using it rather than refuse everyone
                raise InvalidToken("the issuer's keys are unavailable") from error
        else:
            self._keys, self._failed_at = keys, None
        self._fetched_at = now


# --- the authenticator ---


class Authenticator:
    """Bearer token -> Principal; every refusal is Unauthenticated(reason). Shared by all requests of a worker."""

    def __init__(
        self,
        settings: TokenSettings,
        *,
        keys: KeyRingCache | None = None,
        external: ExternalIssuer | None = None,
        engine: EngineSource = engine_from_state,
        fetch: JwksFetcher = fetch_jwks,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._settings = settings
        self._keys = keys or KeyRingCache()
        self._external = external
        self._remote = RemoteJwks(external, fetch=fetch, clock=clock) if external else None
        self._engine = engine
        self._clock = clock
        self._clients: dict[str, tuple[float, Client | None]] = {}
        self._verified: dict[str, Claims] = {}
        self._remembering = threading.Lock()
        self._revoked: frozenset[str] = frozenset()
        self._revoked_read = float("-inf")

    async def authenticate(self, request: Request) -> Principal:
        # A token seen before costs dictionary lookups; the store is read only to refresh the denylist
        # (each second) and client records (every few seconds), or for a new key. The hub's gate calls
        # authenticate_token from its execution threads instead, so those reads never hold up the loop.
        return self.authenticate_token(bearer_token(request), engine=self._engine(request))

    def authenticate_token(self, token: str, *, engine: sa.Engine) -> Principal:
        claims = self._verified.get(token)
        if claims is None or claims.expires_at + timedelta(seconds=CLOCK_SKEW_SECONDS) <= datetime.now(UTC):
            self._verified.pop(token, None)
            try:
                claims = self._validate(token, engine)
            except InvalidToken as error:
                raise Unauthenticated(error.reason) from error
            self._remember(token, claims)
        if claims.jti in self._denylist(engine):
            raise Unauthenticated("revoked")
        client = self._client(engine, claims.client_id)
        if client is None:
            raise Unauthenticated("unknown client")
        if client.disabled:
            raise Unauthenticated("client disabled")
        if not client.accepts_token_issued_at(claims.issued_at):
            raise Unauthenticated("issued before the client's secret was rotated")
        return client.principal(token_purposes=token_purposes(claims.scope), jti=claims.jti)

    def _remember(self, token: str, claims: Claims) -> None:
        with self._remembering:  # several threads may evict at once: each must take a different oldest
            if len(self._verified) >= VERIFIED_TOKENS_KEPT:
                del self._verified[next(iter(self._verified))]  # the oldest
            self._verified[token] = claims

    def _denylist(self, engine: sa.Engine) -> frozenset[str]:
        """The revoked token ids, as this worker last read them (at most a second ago)."""
        if self._clock() - self._revoked_read >= REVOCATION_REFRESH_SECONDS:
            self._revoked = revoked_ids(engine)
            self._revoked_read = self._clock()
        return self._revoked

    def _validate(self, token: str, engine: sa.Engine) -> Claims:
        if self._external is None or _unverified_issuer(token) != self._external.issuer:
            return validate_access_token(
                token, engine=engine, keys=self._keys, settings=self._settings, check_revoked=False
            )
        return self._validate_external(token, engine, self._external)

    def _validate_external(self, token: str, engine: sa.Engine, external: ExternalIssuer) -> Claims:
        assert self._remote is not None
        remote = self._remote

        def validator(jwks: Callable[[], Mapping[str, Any]]) -> TokenValidator:
            return TokenValidator(
                jwks,
                issuer=external.issuer,
                audience=external.audience,
                leeway_seconds=CLOCK_SKEW_SECONDS,
            )

        try:
            return validator(remote.keys).validate(token)
        except InvalidToken as error:
            if error.reason != "unknown key id":
                raise
        return validator(remote.fresh).validate(token)

    def _client(self, engine: sa.Engine, client_id: str) -> Client | None:
        """The client's record, read again after a few seconds so that disabling it, or rotating its secret,
        takes effect."""
        cached = self._clients.get(client_id)
        if cached is not None and self._clock() - cached[0] < CLIENT_CACHE_SECONDS:
            return cached[1]
        client = load_client(engine, client_id)
        self._clients[client_id] = (self._clock(), client)
        return client


def claimed_client_id(request: Request) -> str | None:
    """The client id the request's token claims, unverified: only to count refusals by, never to trust.

    None unless the token parses as a JWT and its `client_id` claim has the shape of a client id
    (`auth.clients.check_client_id`: bounded, printable), so a refusal's record never holds the token,
    nor arbitrary text from it.
    """
    try:
        claims = _unverified_claims(bearer_token(request))
    except Unauthenticated:
        return None
    claimed = claims.get("client_id") if claims is not None else None
    if not isinstance(claimed, str):
        return None
    try:
        return check_client_id(claimed)
    except ClientError:
        return None


def _unverified_issuer(token: str) -> str | None:
    """Only to choose which keys to check against: the chosen validator checks `iss` itself."""
    claims = _unverified_claims(token)
    issuer = claims.get("iss") if claims is not None else None
    return issuer if isinstance(issuer, str) else None


def _unverified_claims(token: str) -> dict[str, Any] | None:
    """A compact JWT's claims as it states them (header and claims both JSON objects), unchecked; else None."""
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        header, claims = (json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))) for part in parts[:2])
    except ValueError:
        return None
    return claims if isinstance(header, dict) and isinstance(claims, dict) else None
