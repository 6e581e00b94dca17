"""Registered client systems: registration with a one-time secret, scrypt storage, verification, disabling."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from auth.principal import Principal
from auth.tables import oauth_client
from resolvers.rules.regions import Region

# scrypt at n=2^14, r=8, p=1 costs ~16 MiB and some tens of milliseconds: cheap for one token
# request, expensive for anyone who steals the table and tries to guess. The parameters are stored
# with each hash, so raising them later leaves existing secrets verifiable.
SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
_SALT_BYTES = 16
_HASH_BYTES = 32
_SCHEME = "scrypt"

_CLIENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
_DEPARTMENT = re.compile(r"[a-z][a-z0-9_-]{0,39}")
_NAME = re.compile(r"[a-z-]+")  # roles and purpose codes
# Division-code prefixes: province, city, county, township, village (GB/T 2260 and its extension).
_REGION_LENGTHS = (2, 4, 6, 9, 12)
MAX_RATE_LIMIT = 100_000  # requests per minute: a limiter keeps up to this many times per client and worker


class ClientError(ValueError):
    """A registration or lookup that cannot be done; the message says what to change."""


class DuplicateClient(ClientError):
    pass


class UnknownClient(ClientError):
    pass


@dataclass(frozen=True)
class Client:
    """A registered client as the hub knows it; the secret itself is never part of it."""

    client_id: str
    department: str
    roles: tuple[str, ...]
    regions: tuple[str, ...]
    purposes: tuple[str, ...]
    pseudonym_key: bytes
    disabled: bool
    created_at: datetime
    rate_limit: int | None = None  # requests per minute (per worker); None: the hub's default, 0: unlimited
    registered_only: bool = False  # it may send registered operations only (registered/)

    def principal(self, *, token_purposes: Iterable[str], jti: str | None = None) -> Principal:
        """The client as one request sees it, with the purposes its token (or the operator) declares."""
        return Principal(
            client_id=self.client_id,
            department=self.department,
            roles=frozenset(self.roles),
            regions=self.regions,
            purposes=frozenset(self.purposes),
            token_purposes=frozenset(token_purposes),
            pseudonym_key=self.pseudonym_key,
            jti=jti,
            rate_limit=self.rate_limit,
            registered_only=self.registered_only,
        )

    @classmethod
    def from_row(cls, row: Mapping[Any, Any]) -> Client:
        created_at = row["created_at"]
        if created_at.tzinfo is None:  # SQLite hands back what was stored, UTC without a zone
            created_at = created_at.replace(tzinfo=UTC)
        return cls(
            client_id=row["client_id"],
            department=row["department"],
            roles=tuple(row["roles"]),
            regions=tuple(row["regions"]),
            purposes=tuple(row["purposes"]),
            pseudonym_key=bytes.fromhex(row["pseudonym_key"]),
            disabled=bool(row["disabled"]),
            created_at=created_at,
            rate_limit=row.get("rate_limit"),
            registered_only=bool(row.get("registered_only", False)),
        )


# --- the secret's hash ---


def hash_secret(secret: str) -> str:
    """`scrypt$n$r$p$salt$hash`, salt and hash in unpadded base64url."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = _scrypt(secret, salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return "$".join((_SCHEME, str(SCRYPT_N), str(SCRYPT_R), str(SCRYPT_P), _b64(salt), _b64(digest)))


def check_secret(secret: str, encoded: str) -> bool:
    try:
        scheme, n, r, p, salt, expected = encoded.split("$")
        if scheme != _SCHEME:
            return False
        digest = _scrypt(secret, salt=_unb64(salt), n=int(n), r=int(r), p=int(p))
        return hmac.compare_digest(digest, _unb64(expected))
    except ValueError:  # a malformed stored hash never matches
        return False


def _scrypt(secret: str, *, salt: bytes, n: int, r: int, p: int) -> bytes:
    # maxmem above the 128*n*r bytes scrypt needs, which is just over OpenSSL's 32 MiB default at n=2^15.
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=_HASH_BYTES, maxmem=128 * n * r + 2**20)


@functools.cache
def _dummy_hash() -> str:
    """Hashed once, lazily: an unknown client costs the same scrypt work as a wrong secret."""
    return hash_secret(secrets.token_urlsafe(32))


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


# --- validation ---


def check_client_id(client_id: str) -> str:
    if not _CLIENT_ID.fullmatch(client_id):
        raise ClientError(
            f"client id {client_id!r}: use 1-100 letters, digits, '.', '_' or '-', starting with a letter or digit"
        )
    return client_id


def normalise_regions(regions: Iterable[str]) -> tuple[str, ...]:
    """Division codes as the prefixes they stand for (`350500` -> `3505`), each once, in the order given."""
    result: list[str] = []
    for region in regions:
        code = region.strip()
        if not code.isascii() or not code.isdigit():
            raise ClientError(f"region {region!r} is not a division code (digits only)")
        # Only 6- and 12-digit codes stand for a shorter prefix; other lengths are judged as given.
        prefix = Region.of(code).prefix if len(code) in _REGION_LENGTHS else code
        if len(prefix) not in _REGION_LENGTHS:
            raise ClientError(f"region {region!r} is not a division-code prefix of 2, 4, 6, 9 or 12 digits")
        result.append(prefix)
    if not result:
        raise ClientError("a client needs at least one region")
    # A region inside another one adds nothing: `3505,350583` is `3505`.
    return tuple(
        dict.fromkeys(
            code for code in result if not any(Region(other).covers(code) and code != other for other in result)
        )
    )


def _names(values: Iterable[str], *, kind: str) -> tuple[str, ...]:
    result: list[str] = []
    for value in values:
        name = value.strip()
        if not _NAME.fullmatch(name):
            raise ClientError(f"{kind} {value!r}: use lower-case letters and '-' only")
        if name not in result:
            result.append(name)
    if not result:
        raise ClientError(f"a client needs at least one {kind}")
    return tuple(result)


def check_rate_limit(rate_limit: int | None) -> int | None:
    if rate_limit is not None and not 0 <= rate_limit <= MAX_RATE_LIMIT:
        raise ClientError(
            f"rate limit {rate_limit}: give requests per minute from 0 (unlimited) to {MAX_RATE_LIMIT}, "
            "or none for the hub's default"
        )
    return rate_limit


def _department(department: str) -> str:
    if not _DEPARTMENT.fullmatch(department):
        raise ClientError(f"department {department!r}: use up to 40 lower-case letters, digits, '_' or '-'")
    return department


# --- the store ---


def register_client(
    engine: sa.Engine,
    *,
    client_id: str,
    department: str,
    roles: Sequence[str],
    regions: Sequence[str],
    purposes: Sequence[str],
    rate_limit: int | None = None,
    registered_only: bool = False,
    now: datetime | None = None,
) -> tuple[Client, str]:
    """Register a client; returns it with its secret, which exists nowhere else from then on."""
    secret = secrets.token_urlsafe(32)
    row = {
        "client_id": check_client_id(client_id),
        "department": _department(department),
        "roles": list(_names(roles, kind="role")),
        "regions": list(normalise_regions(regions)),
        "purposes": list(_names(purposes, kind="purpose")),
        "secret_hash": hash_secret(secret),
        "pseudonym_key": secrets.token_hex(32),
        "disabled": False,
        "created_at": (now or datetime.now(UTC)).astimezone(UTC),
        "rate_limit": check_rate_limit(rate_limit),
        "registered_only": registered_only,
    }
    try:
        with engine.begin() as connection:
            connection.execute(oauth_client.insert().values(**row))
    except sa.exc.IntegrityError as error:
        raise DuplicateClient(f"client {client_id!r} is already registered") from error
    return Client.from_row(row), secret


def load_client(engine: sa.Engine, client_id: str) -> Client | None:
    with engine.connect() as connection:
        statement = sa.select(oauth_client).where(oauth_client.c.client_id == client_id)
        row = connection.execute(statement).mappings().first()
    return Client.from_row(row) if row is not None else None


def list_clients(engine: sa.Engine) -> list[Client]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(oauth_client).order_by(oauth_client.c.client_id)).mappings().all()
    return [Client.from_row(row) for row in rows]


def disable_client(engine: sa.Engine, client_id: str) -> None:
    """Refuse the client's secret from now on; tokens it holds stop working when Authenticator next loads it."""
    with engine.begin() as connection:
        updated = connection.execute(
            oauth_client.update().where(oauth_client.c.client_id == client_id).values(disabled=True)
        ).rowcount
    if not updated:
        raise UnknownClient(f"no client {client_id!r} is registered")


def set_rate_limit(engine: sa.Engine, client_id: str, rate_limit: int | None) -> None:
    """The client's requests per minute from now on (None: the hub's default); every worker within seconds."""
    with engine.begin() as connection:
        updated = connection.execute(
            oauth_client.update()
            .where(oauth_client.c.client_id == client_id)
            .values(rate_limit=check_rate_limit(rate_limit))
        ).rowcount
    if not updated:
        raise UnknownClient(f"no client {client_id!r} is registered")


def set_registered_only(engine: sa.Engine, client_id: str, registered_only: bool) -> None:
    """Restrict the client to registered operations, or lift that; every worker within seconds."""
    with engine.begin() as connection:
        updated = connection.execute(
            oauth_client.update().where(oauth_client.c.client_id == client_id).values(registered_only=registered_only)
        ).rowcount
    if not updated:
        raise UnknownClient(f"no client {client_id!r} is registered")


def verify_client(engine: sa.Engine, client_id: str, secret: str) -> Client | None:
    """The client if the secret is its own and it is enabled, else None.

    Exactly one scrypt runs whatever the outcome, so the time taken does not tell an unknown client
    from a wrong secret or a disabled client.
    """
    row = None
    if _CLIENT_ID.fullmatch(client_id):  # anything else cannot be registered, nor sent to the database
        with engine.connect() as connection:
            statement = sa.select(oauth_client).where(oauth_client.c.client_id == client_id)
            row = connection.execute(statement).mappings().first()
    if row is None:
        check_secret(secret, _dummy_hash())
        return None
    matches = check_secret(secret, row["secret_hash"])
    if not matches or row["disabled"]:
        return None
    return Client.from_row(row)
