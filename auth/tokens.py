"""OAuth 2.0 client-credentials access tokens as signed JWTs (RFC 9068): issuing and validating them."""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, Protocol

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import JWKRegistry, Key
from joserfc.jws import CompactSignature, extract_compact, validate_compact

from auth.keys import KEY_TYPES, KeyRing, require_aware

# Short-lived by design: revocation is only a denylist lookup, so expiry is the real limit on a leaked token.
MAX_LIFETIME = timedelta(minutes=15)
TOKEN_TYPE = "at+jwt"
# RFC 9068 §4: "at+jwt" or its full media type; media types compare case-insensitively.
_ACCEPTED_TYPES = frozenset({"at+jwt", "application/at+jwt"})
# Our tokens carry exactly these. Anything else is refused: jku/x5u/x5c/jwk would let the token
# name its own verification key, and crit/b64 would change how the signature is computed.
_ACCEPTED_HEADERS = frozenset({"alg", "kid", "typ"})
_REGISTERED_CLAIMS = frozenset({"iss", "sub", "aud", "exp", "iat", "nbf", "jti", "client_id", "scope"})

JwksProvider = Callable[[], Mapping[str, Any]]


class InvalidToken(Exception):
    """A token that must not be accepted; `reason` says why, in a few words."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class Denylist(Protocol):
    """Answers whether a token id was revoked (RFC 7009); where revocations are stored is not our concern."""

    def __call__(self, jti: str, /) -> bool: ...


def _nothing_revoked(jti: str, /) -> bool:
    return False


@dataclass(frozen=True)
class Claims:
    """The claims of a validated access token; `raw` holds every claim as signed, extra ones included."""

    issuer: str
    subject: str
    audience: tuple[str, ...]
    client_id: str
    scope: tuple[str, ...]
    jti: str
    issued_at: datetime
    expires_at: datetime
    not_before: datetime | None
    raw: Mapping[str, Any]


class TokenIssuer:
    """Signs access tokens with the key ring's current key."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, lifetime: timedelta) -> None:
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        if lifetime <= timedelta(0):
            raise ValueError("lifetime must be positive")
        if lifetime > MAX_LIFETIME:
            raise ValueError(f"lifetime {lifetime} exceeds the maximum of {MAX_LIFETIME}")
        if lifetime > keys.retention:
            raise ValueError("tokens would outlive the publication of the key that signed them")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._lifetime_seconds = int(lifetime.total_seconds())

    def issue(
        self,
        *,
        client_id: str,
        scope: list[str],
        extra_claims: dict[str, Any] | None = None,
        now: datetime | None = None,
    ) -> str:
        if not client_id:
            raise ValueError("client_id must not be empty")
        for scope_token in scope:
            # The claim is space-separated (RFC 6749 §3.3), so a token with a space would become two scopes.
            if not scope_token or any(character.isspace() for character in scope_token):
                raise ValueError(f"invalid scope token {scope_token!r}")
        extra = dict(extra_claims or {})
        overridden = sorted(_REGISTERED_CLAIMS & extra.keys())
        if overridden:
            raise ValueError(f"extra_claims must not set registered claims: {', '.join(overridden)}")

        issued_at = int(require_aware(now if now is not None else datetime.now(UTC)).timestamp())
        claims = {
            **extra,
            "iss": self._issuer,
            "sub": client_id,
            "aud": self._audience,
            "exp": issued_at + self._lifetime_seconds,
            "iat": issued_at,
            "nbf": issued_at,
            "jti": secrets.token_urlsafe(16),
            "client_id": client_id,
        }
        if scope:
            claims["scope"] = " ".join(scope)
        # Read once, so alg and kid come from the same key even if another thread rotates meanwhile.
        key = self._keys.current
        header = {"typ": TOKEN_TYPE, "alg": key.alg, "kid": key.kid}
        return jwt.encode(header, claims, key.jwk, algorithms=[key.alg], default_type=None)


class TokenValidator:
    """Checks an access token against published keys; every refusal is one InvalidToken with a reason."""

    def __init__(
        self,
        keys: KeyRing | JwksProvider,
        *,
        issuer: str,
        audience: str,
        leeway_seconds: int = 0,
        is_revoked: Denylist = _nothing_revoked,
        max_lifetime: timedelta | None = None,
        subject_is_client: bool = False,
    ) -> None:
        """`max_lifetime` and `subject_is_client` hold an issuer to how it issues (TokenIssuer does both).

        A token that breaks either was not made by the issuer's own code, however well it is signed.
        Tokens of an issuer that sets its own lifetimes and subjects are checked without them.
        """
        if leeway_seconds < 0:
            raise ValueError("leeway_seconds must not be negative")
        if max_lifetime is not None and max_lifetime <= timedelta(0):
            raise ValueError("max_lifetime must be positive")
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._leeway = timedelta(seconds=leeway_seconds)
        self._is_revoked = is_revoked
        self._max_lifetime = max_lifetime
        self._subject_is_client = subject_is_client

    def validate(self, token: str, *, now: datetime | None = None) -> Claims:
        moment = require_aware(now if now is not None else datetime.now(UTC))
        signed = _parse(token)
        header = signed.headers()
        _check_header(header)
        key = self._verification_key(header)
        try:
            # The allow-list is the one algorithm bound to the key, never what the header asks for.
            verified = validate_compact(signed, key, algorithms=[str(key.alg)])
        except JoseError as error:
            raise InvalidToken("bad signature") from error
        if not verified:
            raise InvalidToken("bad signature")
        claims = self._check_claims(_payload(signed), now=moment)
        # Last, so the denylist is asked only about tokens that are otherwise valid.
        if self._is_revoked(claims.jti):
            raise InvalidToken("revoked")
        return claims

    def _verification_key(self, header: Mapping[str, Any]) -> Key:
        kid = header.get("kid")
        if kid is None:
            raise InvalidToken("missing key id")
        jwks = self._keys.jwks() if isinstance(self._keys, KeyRing) else self._keys()
        key = _public_keys(jwks).get(kid) if isinstance(kid, str) else None
        if key is None:
            raise InvalidToken("unknown key id")
        if key.alg != header["alg"]:
            raise InvalidToken("alg not allowed")
        return key

    def _check_claims(self, claims: dict[str, Any], *, now: datetime) -> Claims:
        expires_at = _date_claim(claims, "exp")
        if expires_at is None:
            raise InvalidToken("missing exp")
        # RFC 7519 §4.1.4: not accepted "on or after" the expiration time.
        if expires_at <= now - self._leeway:
            raise InvalidToken("expired")
        not_before = _date_claim(claims, "nbf")
        if not_before is not None and not_before > now + self._leeway:
            raise InvalidToken("not yet valid")
        issued_at = _date_claim(claims, "iat")
        if issued_at is None:
            raise InvalidToken("missing iat")
        if issued_at > now + self._leeway:
            raise InvalidToken("issued in the future")
        # From the earlier of iat and now: an iat set back cannot stretch it, nor one set ahead within the leeway.
        if self._max_lifetime is not None and expires_at > min(issued_at, now) + self._max_lifetime + self._leeway:
            raise InvalidToken("exp beyond the maximum lifetime")
        # Exact string comparison: "https://hub/" is a different issuer from "https://hub".
        if _string_claim(claims, "iss") != self._issuer:
            raise InvalidToken("wrong issuer")
        audience = _audience_claim(claims)
        if self._audience not in audience:
            raise InvalidToken("wrong audience")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("invalid scope")
        subject, client_id = _string_claim(claims, "sub"), _string_claim(claims, "client_id")
        if self._subject_is_client and subject != client_id:
            raise InvalidToken("sub is not the client_id")
        return Claims(
            issuer=self._issuer,
            subject=subject,
            audience=audience,
            client_id=client_id,
            scope=tuple(scope.split()),
            jti=_string_claim(claims, "jti"),
            issued_at=issued_at,
            expires_at=expires_at,
            not_before=not_before,
            raw=MappingProxyType(claims),
        )


def _parse(token: str) -> CompactSignature:
    if not isinstance(token, str):
        raise InvalidToken("malformed token")
    try:
        signed = extract_compact(token.encode("ascii"))
    except (JoseError, ValueError) as error:
        raise InvalidToken("malformed token") from error
    if not isinstance(signed.headers(), dict):
        raise InvalidToken("malformed token")
    return signed


def _check_header(header: Mapping[str, Any]) -> None:
    for name in header:
        if name not in _ACCEPTED_HEADERS:
            raise InvalidToken(f"header {name} not accepted")
    algorithm = header.get("alg")
    if not isinstance(algorithm, str) or algorithm not in KEY_TYPES:
        raise InvalidToken("alg not allowed")
    token_type = header.get("typ")
    if not isinstance(token_type, str) or token_type.lower() not in _ACCEPTED_TYPES:
        raise InvalidToken("typ must be at+jwt")


def _public_keys(jwks: Mapping[str, Any]) -> dict[str, Key]:
    """Usable keys by kid. A key must state its own asymmetric alg: the token never gets to choose it."""
    keys: dict[str, Key] = {}
    entries = jwks.get("keys")
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict):
            continue
        kid, algorithm = entry.get("kid"), entry.get("alg")
        if not isinstance(kid, str) or not isinstance(algorithm, str) or entry.get("use", "sig") != "sig":
            continue
        if KEY_TYPES.get(algorithm) != entry.get("kty"):
            continue
        try:
            keys[kid] = JWKRegistry.import_key(entry)
        except (JoseError, ValueError, TypeError):
            continue  # one unreadable key in a published set must not disable the others
    return keys


def _payload(signed: CompactSignature) -> dict[str, Any]:
    try:
        claims = json.loads(signed.payload)
    except ValueError as error:
        raise InvalidToken("malformed token") from error
    if not isinstance(claims, dict):
        raise InvalidToken("malformed token")
    return claims


def _date_claim(claims: Mapping[str, Any], name: str) -> datetime | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidToken(f"invalid {name}")
    try:
        return datetime.fromtimestamp(value, UTC)
    except (OverflowError, OSError, ValueError) as error:  # NaN, infinity, or beyond year 9999
        raise InvalidToken(f"invalid {name}") from error


def _string_claim(claims: Mapping[str, Any], name: str) -> str:
    value = claims.get(name)
    if value is None:
        raise InvalidToken(f"missing {name}")
    if not isinstance(value, str) or not value:
        raise InvalidToken(f"invalid {name}")
    return value


def _audience_claim(claims: Mapping[str, Any]) -> tuple[str, ...]:
    value = claims.get("aud")
    if value is None:
        raise InvalidToken("missing aud")
    # RFC 7519 §4.1.3: one string, or an array of strings.
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return tuple(value)
    raise InvalidToken("invalid aud")
