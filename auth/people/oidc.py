"""Single sign-on for the console: an OpenID Connect relying party (authorization code with PKCE).

The issuer only says who the person is (their user name, from one claim of a checked ID token);
what they may do still comes from the hub's own user table. Nothing here reads the store: the
console's pages carry a `Pending` sign-in in a signed cookie between `begin` and `finish`.
Both talk to the issuer synchronously, so an async page calls them from a worker thread.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx2
from authlib.common.security import is_secure_transport
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri, prepare_token_request
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc.errors import ExpiredTokenError, JoseError, MissingClaimError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import CompactSignature, extract_compact, validate_compact
from joserfc.jwt import JWTClaimsRegistry

from auth.keys import KEY_TYPES
from auth.server.signing import CLOCK_SKEW_SECONDS

DEFAULT_SCOPES = "openid profile"
DEFAULT_USERNAME_CLAIM = "preferred_username"
# A sign-in left at the issuer's page longer than this starts again (the cookie's lifetime as well).
PENDING_MAX_AGE_SECONDS = 600
DISCOVERY_CACHE_SECONDS = 3600.0
JWKS_CACHE_SECONDS = 300.0
# An ID token naming an unknown key fetches the key set again, but not more often than this.
JWKS_REFETCH_INTERVAL_SECONDS = 10.0
FETCH_TIMEOUT_SECONDS = 5.0
_MAX_RESPONSE_BYTES = 256 * 1024
_MAX_COOKIE_LENGTH = 1024
_MAX_USER_NAME_LENGTH = 200
# RFC 7636 §4.1: 43 to 128 unreserved characters.
_VERIFIER = re.compile(r"[A-Za-z0-9\-._~]{43,128}")
_ERROR_CODE = re.compile(r"[a-z_]{1,64}")
# A token that names or carries its own key (or changes how its signature is computed) is never ours to trust.
_REFUSED_HEADERS = frozenset({"jku", "jwk", "x5u", "x5c", "crit", "b64"})
# The pending cookie's MAC is keyed by the console's cookie key: this prefix keeps a session
# cookie's MAC from ever passing for a pending sign-in's, and the other way round.
_PENDING_MAC_CONTEXT = b"aidgraph oidc pending sign-in\x00"


class OidcError(Exception):
    """Single sign-on failed; the message says why without any token, code or claim value."""


class InvalidOidcSettings(ValueError):
    """`field` of OidcSettings cannot be used; aidgraph.settings names the variable that set it."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name} {reason}")
        self.field = field_name
        self.reason = reason


@dataclass(frozen=True)
class OidcSettings:
    """The deployment's issuer and how the hub is registered there. No secret: a public client (PKCE alone)."""

    issuer: str
    client_id: str
    redirect_uri: str
    client_secret: str | None = field(default=None, repr=False)
    scopes: str = DEFAULT_SCOPES
    username_claim: str = DEFAULT_USERNAME_CLAIM

    def __post_init__(self) -> None:
        for name, url in (("issuer", self.issuer), ("redirect_uri", self.redirect_uri)):
            _check_url(name, url)
        if urlsplit(self.issuer).query:
            raise InvalidOidcSettings("issuer", "must not have a query (OpenID Connect Discovery §2)")
        if not self.client_id:
            raise InvalidOidcSettings("client_id", "must be set")
        if self.client_secret == "":
            raise InvalidOidcSettings("client_secret", "must not be empty (leave it unset for a public client)")
        if "openid" not in self.scopes.split():
            raise InvalidOidcSettings("scopes", "must include openid")
        if not self.username_claim:
            raise InvalidOidcSettings("username_claim", "must name a claim")


def _check_url(name: str, url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.fragment:
        raise InvalidOidcSettings(name, "must be an http(s) address without a fragment")
    if not is_secure_transport(url):
        raise InvalidOidcSettings(name, "must be https (plain http only on loopback)")


@dataclass(frozen=True)
class Metadata:
    """What the issuer's discovery document says, as far as the hub uses it."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str


@dataclass(frozen=True)
class Pending:
    """A sign-in sent to the issuer and not yet back: what the callback must match."""

    state: str
    nonce: str
    code_verifier: str = field(repr=False)
    created_at: datetime


class Provider:
    """The configured issuer: its discovery document and keys, each kept for a while. Shared by a worker's requests."""

    def __init__(
        self,
        settings: OidcSettings,
        http: httpx2.Client | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self._owns_http = http is None
        self._http = http if http is not None else httpx2.Client(timeout=FETCH_TIMEOUT_SECONDS)
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata: tuple[float, Metadata] | None = None
        self._jwks: tuple[float, Mapping[str, Any]] | None = None

    def close(self) -> None:
        if self._owns_http:
            self._http.close()

    def metadata(self) -> Metadata:
        with self._lock:
            if self._metadata is None or self._clock() - self._metadata[0] >= DISCOVERY_CACHE_SECONDS:
                self._metadata = (self._clock(), self._discover())
            return self._metadata[1]

    def jwks(self, *, refresh: bool = False) -> Mapping[str, Any]:
        """The issuer's key set; `refresh` fetches it again unless that was done moments ago."""
        metadata = self.metadata()
        with self._lock:
            age = float("inf") if self._jwks is None else self._clock() - self._jwks[0]
            if age >= (JWKS_REFETCH_INTERVAL_SECONDS if refresh else JWKS_CACHE_SECONDS):
                keys = self._get_json(metadata.jwks_uri, "key set")
                if not isinstance(keys.get("keys"), list):
                    raise OidcError("the issuer's key set is not a JWK set")
                self._jwks = (self._clock(), keys)
            assert self._jwks is not None
            return self._jwks[1]

    def post_form(self, url: str, form: str, headers: Mapping[str, str]) -> tuple[int, Mapping[str, Any]]:
        try:
            response = self._http.post(url, content=form.encode("ascii"), headers=dict(headers))
        except httpx2.HTTPError as error:
            raise OidcError("the issuer's token endpoint could not be reached") from error
        return response.status_code, _json_body(response, "token response")

    def _discover(self) -> Metadata:
        document = self._get_json(self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration", "discovery")
        # OpenID Connect Discovery §4.3: exactly the issuer configured, or another server is answering for it.
        if document.get("issuer") != self.settings.issuer:
            raise OidcError("the issuer's discovery document names another issuer")
        endpoints = {}
        for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
            url = document.get(name)
            if not isinstance(url, str) or not is_secure_transport(url):
                raise OidcError(f"the issuer's discovery document has no usable {name} (https, or loopback)")
            endpoints[name] = url
        methods = document.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise OidcError("the issuer does not support PKCE with S256")
        return Metadata(issuer=self.settings.issuer, **endpoints)

    def _get_json(self, url: str, what: str) -> Mapping[str, Any]:
        try:
            response = self._http.get(url, headers={"Accept": "application/json"})
        except httpx2.HTTPError as error:
            raise OidcError(f"the issuer's {what} could not be fetched") from error
        if response.status_code != 200:
            raise OidcError(f"the issuer's {what} answered {response.status_code}")
        return _json_body(response, what)


def _json_body(response: httpx2.Response, what: str) -> Mapping[str, Any]:
    if len(response.content) > _MAX_RESPONSE_BYTES:
        raise OidcError(f"the issuer's {what} is too large")
    try:
        body = json.loads(response.content)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise OidcError(f"the issuer's {what} is not a JSON object")
    return body


# --- the two steps ---


def begin(provider: Provider) -> tuple[str, Pending]:
    """Where to send the person's browser, and what to keep (in the pending cookie) until they come back."""
    settings = provider.settings
    pending = Pending(
        state=secrets.token_urlsafe(32),
        nonce=secrets.token_urlsafe(32),
        code_verifier=secrets.token_urlsafe(48),  # 64 characters
        created_at=datetime.now(UTC).replace(microsecond=0),
    )
    url = prepare_grant_uri(
        provider.metadata().authorization_endpoint,
        client_id=settings.client_id,
        response_type="code",
        redirect_uri=settings.redirect_uri,
        scope=settings.scopes,
        state=pending.state,
        nonce=pending.nonce,
        code_challenge=create_s256_code_challenge(pending.code_verifier),
        code_challenge_method="S256",
    )
    return url, pending


def finish(provider: Provider, pending: Pending, *, code: str, state: str) -> str:
    """The user name the issuer vouches for, from the callback's `code` and `state`; OidcError otherwise."""
    if not hmac.compare_digest(pending.state.encode(), state.encode("utf-8", "replace")):
        raise OidcError("the sign-in came back with another state: start it again")
    if not code:
        raise OidcError("the issuer sent no authorization code")
    settings = provider.settings
    metadata = provider.metadata()
    form: dict[str, str] = {"code": code, "code_verifier": pending.code_verifier}
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    if settings.client_secret is None:
        form["client_id"] = settings.client_id  # a public client names itself; PKCE proves it started the flow
    else:
        headers["Authorization"] = _basic_authorization(settings.client_id, settings.client_secret)
    body = prepare_token_request("authorization_code", redirect_uri=settings.redirect_uri, **form)
    status, answer = provider.post_form(metadata.token_endpoint, body, headers)
    if status != 200:
        error = answer.get("error")
        said = f" ({error})" if isinstance(error, str) and _ERROR_CODE.fullmatch(error) else ""
        raise OidcError(f"the issuer refused the authorization code{said}")
    id_token = answer.get("id_token")
    if not isinstance(id_token, str):
        raise OidcError("the issuer's token response has no ID token")
    claims = _checked_claims(provider, id_token, nonce=pending.nonce)
    name = claims.get(settings.username_claim)
    if not isinstance(name, str) or not name.strip() or len(name) > _MAX_USER_NAME_LENGTH or not name.isprintable():
        raise OidcError(f"the ID token has no usable {settings.username_claim} claim")
    return name


def _basic_authorization(client_id: str, secret: str) -> str:
    # RFC 6749 §2.3.1: each part form-encoded before they are joined, so a ':' in either stays unambiguous.
    pair = f"{quote(client_id, safe='')}:{quote(secret, safe='')}".encode()
    return "Basic " + base64.b64encode(pair).decode("ascii")


# --- the ID token ---


def _checked_claims(provider: Provider, id_token: str, *, nonce: str) -> Mapping[str, Any]:
    """The claims of an ID token whose signature, issuer, audience, times and nonce all check out."""
    signed = _parse(id_token)
    header = signed.headers()
    algorithm = header.get("alg")
    # Only the asymmetric algorithms auth.keys allows: never "none", never an HMAC keyed with a public key.
    if not isinstance(algorithm, str) or algorithm not in KEY_TYPES:
        raise OidcError(f"the ID token's signing algorithm is not allowed (only {', '.join(sorted(KEY_TYPES))})")
    if _REFUSED_HEADERS & header.keys():
        raise OidcError("the ID token names its own key or changes its signing: refused")
    kid = header.get("kid")
    key = _verification_key(provider.jwks(), kid, algorithm)
    if key is None:  # a key the issuer has rotated in since the set was fetched
        key = _verification_key(provider.jwks(refresh=True), kid, algorithm)
    if key is None:
        raise OidcError("the ID token is signed by a key the issuer does not publish")
    try:
        verified = validate_compact(signed, key, algorithms=[algorithm])
    except JoseError:
        verified = False
    if not verified:
        raise OidcError("the ID token's signature does not verify")
    claims = _payload(signed)
    _check_registered_claims(claims, issuer=provider.metadata().issuer, client_id=provider.settings.client_id)
    sent = claims.get("nonce")
    if not isinstance(sent, str) or not hmac.compare_digest(sent.encode(), nonce.encode()):
        raise OidcError("the ID token's nonce is not this sign-in's")
    return claims


def _check_registered_claims(claims: dict[str, Any], *, issuer: str, client_id: str) -> None:
    registry = JWTClaimsRegistry(
        leeway=CLOCK_SKEW_SECONDS,
        iss={"essential": True, "value": issuer},
        aud={"essential": True, "value": client_id},
        sub={"essential": True},
        exp={"essential": True},
        iat={"essential": True},
        nonce={"essential": True},
    )
    try:
        registry.validate(claims)
    except ExpiredTokenError:
        raise OidcError("the ID token has expired") from None
    except MissingClaimError as error:
        raise OidcError(f"the ID token lacks {error.claim}") from None
    except JoseError as error:
        claim = getattr(error, "claim", "a claim")
        reason = {"iss": "issuer is not the configured one", "aud": "audience is not this hub's client"}
        raise OidcError(f"the ID token's {reason.get(claim, f'{claim} is not acceptable')}") from None
    # OpenID Connect Core §3.1.3.7: with several audiences, the party it was issued to must be us.
    audience = claims["aud"]
    authorized_party = claims.get("azp")
    if isinstance(audience, list) and len(audience) > 1 and authorized_party is None:
        raise OidcError("the ID token has several audiences and no authorized party (azp)")
    if authorized_party is not None and authorized_party != client_id:
        raise OidcError("the ID token's authorized party (azp) is not this hub's client")


def _parse(id_token: str) -> CompactSignature:
    try:
        signed = extract_compact(id_token.encode("ascii"))
        if not isinstance(signed.headers(), dict):
            raise ValueError("header")
    except (JoseError, ValueError, UnicodeError):
        raise OidcError("the ID token is malformed") from None
    return signed


def _payload(signed: CompactSignature) -> dict[str, Any]:
    try:
        claims = json.loads(signed.payload)
    except ValueError:
        claims = None
    if not isinstance(claims, dict):
        raise OidcError("the ID token is malformed")
    return claims


def _verification_key(jwks: Mapping[str, Any], kid: object, algorithm: str) -> Key | None:
    """The published key the token names, of the type its algorithm needs; None when there is none.

    Without a kid, only an issuer that publishes exactly one such key is unambiguous.
    """
    usable = []
    for entry in jwks.get("keys") or ():
        if not isinstance(entry, dict) or entry.get("kty") != KEY_TYPES[algorithm]:
            continue
        if entry.get("use", "sig") != "sig" or entry.get("alg", algorithm) != algorithm:
            continue
        if kid is None or entry.get("kid") == kid:
            usable.append(entry)
    if len(usable) != 1:
        return None
    try:
        return JWKRegistry.import_key(usable[0])
    except (JoseError, ValueError, TypeError):
        return None


# --- the pending cookie ---


def pending_to_cookie(pending: Pending, key: bytes) -> str:
    """`<payload>.<MAC>`, both base64url: the pending sign-in as the browser keeps it (HttpOnly, short-lived)."""
    document = {
        "s": pending.state,
        "n": pending.nonce,
        "v": pending.code_verifier,
        "t": int(pending.created_at.timestamp()),
    }
    payload = _b64(json.dumps(document, separators=(",", ":")).encode())
    return f"{payload}.{_mac(key, payload)}"


def pending_from_cookie(
    value: str, key: bytes, *, max_age: int = PENDING_MAX_AGE_SECONDS, now: datetime | None = None
) -> Pending | None:
    """The pending sign-in of a cookie the hub made less than `max_age` seconds ago; None for anything else."""
    if len(value) > _MAX_COOKIE_LENGTH or value.count(".") != 1:
        return None
    payload, mac = value.split(".")
    if not hmac.compare_digest(_mac(key, payload).encode(), mac.encode("utf-8", "replace")):
        return None
    try:
        document = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        state, nonce, verifier, made = document["s"], document["n"], document["v"], document["t"]
    except (ValueError, TypeError, KeyError, binascii.Error):
        return None
    if not (isinstance(state, str) and isinstance(nonce, str) and isinstance(verifier, str)):
        return None
    if not _VERIFIER.fullmatch(verifier) or isinstance(made, bool) or not isinstance(made, int):
        return None
    age = (now or datetime.now(UTC)).timestamp() - made
    if not -CLOCK_SKEW_SECONDS <= age <= max_age:
        return None
    return Pending(state=state, nonce=nonce, code_verifier=verifier, created_at=datetime.fromtimestamp(made, UTC))


def _mac(key: bytes, payload: str) -> str:
    return _b64(hmac.new(key, _PENDING_MAC_CONTEXT + payload.encode("ascii", "replace"), hashlib.sha256).digest())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")
