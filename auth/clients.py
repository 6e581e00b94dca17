"""Registered client systems: registration with a one-time secret, scrypt storage, verification, disabling,
a secret's rotation (audited) and each client's last use (read from the audit trail).

The secret's hash is auth/secret_hashing.py's (`hash_secret` and `check_secret` are importable from here too).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import sqlalchemy as sa

from auth.audit import Caller, audit_event
from auth.audit.writer import audited_change
from auth.principal import Principal
from auth.secret_hashing import check_secret, dummy_hash, hash_secret
from auth.tables import audit_event as audit_event_table
from auth.tables import oauth_client
from resolvers.rules.regions import Region

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
    secret_rotated_at: datetime | None = None  # the secret's last rotation; None: never rotated

    def accepts_token_issued_at(self, issued_at: datetime) -> bool:
        """False for a token issued before the client's secret was last rotated (`rotate_secret`).

        To the second, as a token's `iat` is: a token issued in the very second of a rotation, before it,
        is still accepted, so that one issued in that second with the new secret is never refused.
        """
        if self.secret_rotated_at is None:
            return True
        return issued_at >= self.secret_rotated_at.replace(microsecond=0)

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
        rotated_at = row.get("secret_rotated_at")
        return cls(
            client_id=row["client_id"],
            department=row["department"],
            roles=tuple(row["roles"]),
            regions=tuple(row["regions"]),
            purposes=tuple(row["purposes"]),
            pseudonym_key=bytes.fromhex(row["pseudonym_key"]),
            disabled=bool(row["disabled"]),
            created_at=_aware(row["created_at"]),
            rate_limit=row.get("rate_limit"),
            secret_rotated_at=_aware(rotated_at) if rotated_at is not None else None,
            registered_only=bool(row.get("registered_only", False)),
        )


def _aware(moment: datetime) -> datetime:
    # SQLite hands back what was stored, UTC without a zone
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


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


def check_names(values: Iterable[str], *, kind: str, holder: str = "a client") -> tuple[str, ...]:
    """Role names or purpose codes (lower-case letters and '-'), each once: a client's, or a person's roles."""
    result: list[str] = []
    for value in values:
        name = value.strip()
        if not _NAME.fullmatch(name):
            raise ClientError(f"{kind} {value!r}: use lower-case letters and '-' only")
        if name not in result:
            result.append(name)
    if not result:
        raise ClientError(f"{holder} needs at least one {kind}")
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
    by: str | None = None,
    audited_as: str | None = None,
    now: datetime | None = None,
) -> tuple[Client, str]:
    """Register a client; returns it with its secret, which exists nowhere else from then on.

    `by` is the person registering it: the client and its audit event (outcome `client-changed`) are then
    one transaction, so no registration goes unrecorded; `audited_as` is the client id the event names
    (None for the command line, `console` for the console). The command line and the console always
    name the person; only set-up paths that make a hub's first clients (the demo, tests) pass no `by`.
    """
    secret = secrets.token_urlsafe(32)
    at = (now or datetime.now(UTC)).astimezone(UTC)
    row = {
        "client_id": check_client_id(client_id),
        "department": _department(department),
        "roles": list(check_names(roles, kind="role")),
        "regions": list(normalise_regions(regions)),
        "purposes": list(check_names(purposes, kind="purpose")),
        "secret_hash": hash_secret(secret),
        "pseudonym_key": secrets.token_hex(32),
        "disabled": False,
        "created_at": at,
        "rate_limit": check_rate_limit(rate_limit),
        "registered_only": registered_only,
    }
    client = Client.from_row(row)
    change: AbstractContextManager[sa.Connection] = engine.begin()  # a set-up path: no person, no event
    if by is not None:
        event = audit_event(
            CLIENT_CHANGED,
            caller=Caller(client_id=audited_as),
            actor=_person(by),
            operation="clients add",
            document_hash=None,  # nothing was asked: the detail names the client
            detail=f"client {client.client_id} ({client.department}) registered: roles {', '.join(client.roles)}; "
            f"regions {', '.join(client.regions)}; purposes {', '.join(client.purposes)}",
            at=at,
        )
        change = audited_change(engine, event)
    try:
        with change as connection:
            connection.execute(oauth_client.insert().values(**row))
    except sa.exc.IntegrityError as error:
        raise DuplicateClient(f"client {client_id!r} is already registered") from error
    return client, secret


def load_client(engine: sa.Engine, client_id: str) -> Client | None:
    with engine.connect() as connection:
        statement = sa.select(oauth_client).where(oauth_client.c.client_id == client_id)
        row = connection.execute(statement).mappings().first()
    return Client.from_row(row) if row is not None else None


def list_clients(engine: sa.Engine) -> list[Client]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(oauth_client).order_by(oauth_client.c.client_id)).mappings().all()
    return [Client.from_row(row) for row in rows]


def disable_client(engine: sa.Engine, client_id: str, *, by: str, audited_as: str | None = None) -> None:
    """Refuse the client's secret from now on; tokens it holds stop working when Authenticator next loads it.

    Audited as `rotate_secret` is (outcome `client-changed`, the person `by`, in the change's transaction).
    """
    _change_client(
        engine,
        client_id,
        {"disabled": True},
        by=by,
        audited_as=audited_as,
        operation="clients disable",
        what="disabled",
    )


def set_rate_limit(
    engine: sa.Engine, client_id: str, rate_limit: int | None, *, by: str, audited_as: str | None = None
) -> None:
    """The client's requests per minute from now on (None: the hub's default); every worker within seconds.

    Audited as `rotate_secret` is (outcome `client-changed`, the person `by`, in the change's transaction).
    """
    limit = check_rate_limit(rate_limit)
    what = f"rate limit {'default' if limit is None else limit or 'unlimited'}"
    _change_client(
        engine, client_id, {"rate_limit": limit}, by=by, audited_as=audited_as, operation="clients limit", what=what
    )


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
        check_secret(secret, dummy_hash())
        return None
    matches = check_secret(secret, row["secret_hash"])
    if not matches or row["disabled"]:
        return None
    return Client.from_row(row)


# --- changes made by a person, audited ---

CLIENT_CHANGED = "client-changed"
"""The outcome of the audit event of a change to a registered client: a secret rotated, disabled, a rate limit."""


def rotate_secret(
    engine: sa.Engine, client_id: str, *, by: str, audited_as: str | None = None, now: datetime | None = None
) -> str:
    """Give the client a new secret and return it: shown once, as at registration; only its hash is kept.

    The old secret is refused from the moment this returns (the token endpoint checks the stored hash).
    Tokens issued before the rotation are refused too, as a disabled client's are: by every worker
    within seconds (`Client.accepts_token_issued_at`, once the worker reads the client's record again).
    A rotation answers a secret that may have leaked, and a token got with it is as much at risk.
    A disabled client stays disabled.

    `by` is the person rotating it, named on the audit event (outcome `client-changed`), which is
    written in the change's own transaction: no rotation goes unrecorded. `audited_as` is the client
    id the event names: None for the command line (the hub's own change), `console` for the console.
    Raises UnknownClient, ClientError for an empty `by`, and AuditUnavailable when the event cannot be
    written (then nothing changed).
    """
    secret = secrets.token_urlsafe(32)
    values = {
        "secret_hash": hash_secret(secret),  # scrypt before the chain's lock, which every audited request waits on
        "secret_rotated_at": (now or datetime.now(UTC)).astimezone(UTC),
    }
    what = "secret rotated, tokens issued before it refused"
    _change_client(engine, client_id, values, by=by, audited_as=audited_as, operation="clients rotate", what=what)
    return secret


def _change_client(
    engine: sa.Engine,
    client_id: str,
    values: Mapping[str, Any],
    *,
    by: str,
    audited_as: str | None,
    operation: str,
    what: str,
) -> None:
    """Change the client's row and write the change's audit event, in one transaction: both or neither.

    Raises ClientError for an empty `by`, UnknownClient, and AuditUnavailable (then nothing changed).
    """
    event = audit_event(
        CLIENT_CHANGED,
        caller=Caller(client_id=audited_as),
        actor=_person(by),
        operation=operation,
        document_hash=None,  # nothing was asked: the detail names the client
        detail=f"client {client_id}: {what}",
    )
    with audited_change(engine, event) as connection:
        updated = connection.execute(
            oauth_client.update().where(oauth_client.c.client_id == client_id).values(**values)
        ).rowcount
        if not updated:
            raise UnknownClient(f"no client {client_id!r} is registered")  # rolls back: nothing is written


# Events that name a client without being its request: a delivery the hub sent it, a dry run acting as it.
NOT_THE_CLIENTS_REQUEST: Final = ("webhook", "dry-run")


def last_used(engine: sa.Engine, client_ids: Iterable[str]) -> dict[str, datetime | None]:
    """Each registered client's last use: the time of its newest request on the audit trail (None: never
    used, or not a registered client).

    One statement; for each client it walks the index on (client_id, seq) from the newest seq, past the
    events that are not its requests (NOT_THE_CLIENTS_REQUEST), however long the trail. The newest event
    by seq is the last one written, which is the last request (its event is written before its answer).
    """
    wanted = list(dict.fromkeys(client_ids))
    if not wanted:
        return {}
    newest = (
        sa.select(audit_event_table.c.at)
        .where(
            audit_event_table.c.client_id == oauth_client.c.client_id,
            audit_event_table.c.outcome.not_in(NOT_THE_CLIENTS_REQUEST),
        )
        .order_by(audit_event_table.c.seq.desc())
        .limit(1)
        .correlate(oauth_client)
        .scalar_subquery()
    )
    query = sa.select(oauth_client.c.client_id, newest.label("last_used"))
    query = query.where(oauth_client.c.client_id.in_(wanted))
    with engine.connect() as connection:
        found = {row.client_id: row.last_used for row in connection.execute(query)}
    return {client_id: _aware(found[client_id]) if found.get(client_id) else None for client_id in wanted}


def _person(by: str) -> str:
    name = by.strip() if isinstance(by, str) else ""
    if not name or len(name) > 100 or not name.isprintable():
        raise ClientError("name the person making the change (--by): 1-100 printable characters")
    return name
