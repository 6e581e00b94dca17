"""The access-token signing keys: a current key, rotation, the public JWKS, and persistence."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from joserfc.errors import JoseError
from joserfc.jwk import ECKey, JWKRegistry, KeyParameters, RSAKey

# Asymmetric algorithms only, each bound to one key type: a key that could also serve as an HMAC
# secret would reopen the algorithm-confusion attack.
KEY_TYPES = {"ES256": "EC", "RS256": "RSA"}

# A retired key stays published until every token it signed has expired: the longest lifetime
# TokenIssuer accepts (15 minutes) plus a margin for clock skew between workers and resource servers.
DEFAULT_RETENTION = timedelta(minutes=20)

_FORMAT_VERSION = 1


def require_aware(moment: datetime, *, name: str = "now") -> datetime:
    """Refuse naive datetimes: their timestamp() would silently use the machine's local zone."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware")
    return moment


@dataclass(frozen=True)
class SigningKey:
    """One private key with its history; `retired_at` is None while it is the current key."""

    jwk: ECKey | RSAKey
    created_at: datetime
    retired_at: datetime | None = None

    @property
    def kid(self) -> str:
        return str(self.jwk.kid)

    @property
    def alg(self) -> str:
        return str(self.jwk.alg)

    def public_jwk(self) -> dict[str, Any]:
        return dict(self.jwk.as_dict(private=False))


def _new_key(*, algorithm: str, now: datetime) -> SigningKey:
    parameters: KeyParameters = {"alg": algorithm, "use": "sig"}
    jwk: ECKey | RSAKey
    if algorithm == "ES256":
        jwk = ECKey.generate_key("P-256", parameters=parameters, auto_kid=True)
    elif algorithm == "RS256":
        jwk = RSAKey.generate_key(2048, parameters=parameters, auto_kid=True)
    else:
        raise ValueError(f"unsupported signing algorithm {algorithm!r}; use one of {sorted(KEY_TYPES)}")
    return SigningKey(jwk=jwk, created_at=now)


def _check_signing_key(key: SigningKey) -> None:
    if not isinstance(key.jwk.get("kid"), str):
        raise ValueError("every signing key needs a kid")
    if KEY_TYPES.get(key.alg) != key.jwk.key_type:
        raise ValueError(f"key {key.kid!r}: alg {key.alg!r} is not an allowed asymmetric signing algorithm")
    if isinstance(key.jwk, ECKey) and key.jwk.curve_name != "P-256":
        raise ValueError(f"key {key.kid!r}: ES256 needs a P-256 key, not {key.jwk.curve_name}")
    if not key.jwk.is_private:
        raise ValueError(f"key {key.kid!r} has no private part and cannot sign")
    if key.jwk.get("use") not in (None, "sig"):
        raise ValueError(f"key {key.kid!r} is not a signing key")
    require_aware(key.created_at, name="created_at")
    if key.retired_at is not None:
        require_aware(key.retired_at, name="retired_at")


class KeyRing:
    """Signing keys, oldest first; the newest signs, the retired ones only verify until retention ends."""

    def __init__(self, keys: Sequence[SigningKey], *, retention: timedelta = DEFAULT_RETENTION) -> None:
        if not keys:
            raise ValueError("a key ring needs at least one key")
        if retention <= timedelta(0):
            raise ValueError("retention must be positive")
        for key in keys:
            _check_signing_key(key)
        if len({key.kid for key in keys}) != len(keys):
            raise ValueError("key ids must be unique")
        self._keys: tuple[SigningKey, ...] = tuple(keys)
        self.retention = retention

    @classmethod
    def generate(cls, *, now: datetime, algorithm: str = "ES256", retention: timedelta = DEFAULT_RETENTION) -> KeyRing:
        return cls([_new_key(algorithm=algorithm, now=require_aware(now))], retention=retention)

    @property
    def current(self) -> SigningKey:
        return self._keys[-1]

    @property
    def keys(self) -> tuple[SigningKey, ...]:
        return self._keys

    def rotate(self, *, now: datetime) -> SigningKey:
        """Start signing with a fresh key; drop retired keys whose tokens have all expired."""
        require_aware(now)
        fresh = _new_key(algorithm=self.current.alg, now=now)
        kept = [key for key in self._keys[:-1] if key.retired_at is not None and key.retired_at + self.retention > now]
        # One assignment of an immutable tuple: a thread validating meanwhile sees the old or new ring.
        self._keys = (*kept, replace(self.current, retired_at=now), fresh)
        return fresh

    def jwks(self) -> dict[str, list[dict[str, Any]]]:
        """The public JWK Set to serve at /.well-known/jwks.json; never any private member."""
        return {"keys": [key.public_jwk() for key in self._keys]}

    def to_json(self) -> str:
        """Everything, private keys included: the caller stores it as a secret and shares it between workers."""
        return json.dumps(
            {
                "version": _FORMAT_VERSION,
                "retention_seconds": self.retention.total_seconds(),
                "keys": [
                    {
                        "jwk": key.jwk.as_dict(private=True),
                        "created_at": key.created_at.isoformat(),
                        "retired_at": key.retired_at.isoformat() if key.retired_at else None,
                    }
                    for key in self._keys
                ],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> KeyRing:
        data = json.loads(text)
        if not isinstance(data, dict) or data.get("version") != _FORMAT_VERSION:
            raise ValueError(f"not a version {_FORMAT_VERSION} key ring")
        try:
            keys = [_key_from_json(entry) for entry in data["keys"]]
            retention = timedelta(seconds=data["retention_seconds"])
        except (KeyError, TypeError, JoseError) as error:
            raise ValueError(f"unreadable key ring: {error!r}") from error
        return cls(keys, retention=retention)


def _key_from_json(entry: dict[str, Any]) -> SigningKey:
    jwk = JWKRegistry.import_key(entry["jwk"])
    if not isinstance(jwk, ECKey | RSAKey):
        raise ValueError(f"key type {jwk.key_type!r} cannot sign access tokens")
    retired_at = entry["retired_at"]
    return SigningKey(
        jwk=jwk,
        created_at=datetime.fromisoformat(entry["created_at"]),
        retired_at=datetime.fromisoformat(retired_at) if retired_at else None,
    )
