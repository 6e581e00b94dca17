"""What the trail records of one request or change: `AuditEvent`, its one builder, and the keyed document hash.

Every path that writes the trail (GraphQL answers and refusals, the students export, a policy's dry
run, webhooks, policy changes, counted unauthenticated refusals) builds its event with `audit_event`.
The builder asks each path, by required keyword arguments, for every part of the identity an event
carries: who (`Caller`: client, roles, purpose, case, policy version), the person acting (`actor`),
and what was asked (`operation`, `document_hash`). A path that knows no such part says `None`; it
cannot leave it out by accident, which is how the hand-built copies drifted apart.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Final, Protocol

import sqlalchemy as sa

from auth.hub_keys import DOCUMENT_KEY, HubKeyUnavailable, hub_key

if TYPE_CHECKING:
    from auth.access import Access, Miss
    from auth.principal import Principal

NOT_FOUND: Final = "not-found"
"""The outcome of a request whose look-ups by key found nothing the caller may see, and returned nothing else."""

DOCUMENT_HASH_PREFIX: Final = "hmac-sha256:"
"""Marks a keyed document hash. Events written before it hold a bare SHA-256 hex digest, kept as stored."""


class AuditUnavailable(Exception):
    """The event could not be written; the request it describes must fail."""


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """What one request did, as its caller knows it. Built by `audit_event`; tests may build one directly.

    `subjects` are the resident ids the answer returned (any spelling); they are stored only as
    pseudonyms. `revealed`, `masked` and `withheld` name fields as `Type.field`. `outcome` is a short
    word (docs/access.md lists them); `detail` says why, in words (a refusal's reason). `actor` is the
    person who acted, when one did (a command's `--by`), beside the client the request came from.
    Lists are stored sorted and without repeats; text longer than its column is cut, marked with `…`.
    """

    at: datetime
    client_id: str | None
    outcome: str
    actor: str | None = None
    roles: Sequence[str] = ()
    purpose: str | None = None
    case_id: str | None = None
    operation: str | None = None
    document_hash: str | None = None
    subjects: Sequence[str] = ()
    revealed: Sequence[str] = ()
    masked: Sequence[str] = ()
    withheld: Sequence[str] = ()
    detail: str | None = None
    policy_version: int | None = None


@dataclass(frozen=True, kw_only=True)
class Caller:
    """Who a request came from and under what terms, as far as they were established before it ended."""

    client_id: str | None = None
    roles: Sequence[str] = ()
    purpose: str | None = None
    case_id: str | None = None
    policy_version: int | None = None

    @classmethod
    def of(cls, access: Access) -> Caller:
        """An admitted request: its client, purpose, case and the policy version it was answered under."""
        principal = access.principal
        return cls(
            client_id=principal.client_id if principal else None,
            roles=sorted(principal.roles) if principal else (),
            purpose=access.purpose,
            case_id=access.case_id,
            policy_version=access.policy_version,
        )

    @classmethod
    def refused(cls, principal: Principal | None, *, purpose: str | None, case_id: str | None) -> Caller:
        """A request refused before an `Access` existed: what was known of it by then."""
        return cls(
            client_id=principal.client_id if principal else None,
            roles=sorted(principal.roles) if principal else (),
            purpose=purpose,
            case_id=case_id,
        )

    @classmethod
    def the_hub(cls, *, policy_version: int | None = None) -> Caller:
        """The hub's own changes (a policy applied): no client asked; the event's `actor` says who did it."""
        return cls(policy_version=policy_version)


class Disclosed(Protocol):
    """The fields an answer revealed, masked and withheld, as `Type.field` (`auth.disclosure.Disclosure`)."""

    @property
    def revealed(self) -> Sequence[str]: ...
    @property
    def masked(self) -> Sequence[str]: ...
    @property
    def withheld(self) -> Sequence[str]: ...


@dataclass(frozen=True, kw_only=True)
class DisclosedFields:
    """A disclosure recorded earlier and read back (a webhook's, stored with its delivery)."""

    revealed: Sequence[str] = ()
    masked: Sequence[str] = ()
    withheld: Sequence[str] = ()


def audit_event(
    outcome: str,
    *,
    caller: Caller,
    actor: str | None,
    operation: str | None,
    document_hash: str | None,
    subjects: Iterable[str] = (),
    disclosure: Disclosed | None = None,
    detail: str | None = None,
    at: datetime | None = None,
) -> AuditEvent:
    """The event of one request or change: the only way the hub builds one.

    `document_hash` is `document_digest` of what was asked (the query text; an export's parameters),
    never the text itself. `at` defaults to now.
    """
    return AuditEvent(
        at=at if at is not None else datetime.now(UTC),
        client_id=caller.client_id,
        actor=actor,
        roles=sorted(caller.roles),
        purpose=caller.purpose,
        case_id=caller.case_id,
        operation=operation,
        document_hash=document_hash,
        subjects=sorted(set(subjects)),
        revealed=list(disclosure.revealed) if disclosure else [],
        masked=list(disclosure.masked) if disclosure else [],
        withheld=list(disclosure.withheld) if disclosure else [],
        outcome=outcome,
        detail=detail,
        policy_version=caller.policy_version,
    )


def misses_detail(misses: Sequence[Miss]) -> str:
    """The trail's words for look-ups that found nothing visible, counted by entry point and why.

    Only the trail tells a key outside the caller's regions from one never issued; the caller's answer
    is the same for both. The keys themselves go into the event as subjects (pseudonymised).
    """
    counts: dict[str, int] = {}
    for miss in misses:
        kind = f"{miss.entry_point} {miss.why}"
        counts[kind] = counts.get(kind, 0) + 1
    listed = ", ".join(f"{kind} ({count})" for kind, count in sorted(counts.items()))
    noun = "look-up" if len(misses) == 1 else "look-ups"
    return f"nothing visible for {len(misses)} {noun}: {listed}"


def document_digest(key: bytes, text: str) -> str:
    """The keyed hash of a query document (or any text that names what was asked), prefixed as keyed.

    HMAC-SHA-256 under the hub's document key: the same text gives the same value in one store, so
    events (and log lines) about one document are found together, but without the key nobody can test
    a guessed text against it. An unkeyed hash of a query that holds a resident id gave the id away to
    anyone trying the ids of one county, one birth date at a time.
    """
    return DOCUMENT_HASH_PREFIX + hmac.new(key, text.encode("utf-8"), hashlib.sha256).hexdigest()


def document_hash(engine: sa.Engine, text: str) -> str:
    """`document_digest` under this store's document key (made on first use).

    Raises AuditUnavailable when the key can be neither read nor made: the event cannot be written.
    """
    try:
        key = hub_key(engine, DOCUMENT_KEY)
    except HubKeyUnavailable as error:
        raise AuditUnavailable(f"the audit event could not be written: {error}") from error
    return document_digest(key, text)
