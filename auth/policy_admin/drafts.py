"""Drafts and four eyes: a policy change is a draft until a second person approves it (DESIGN §3).

A draft is based on the version live when it was made; approving it once another version went live
is refused (the author would publish a change against a policy they never saw). The author may not
approve their own draft unless the hub allows a single person (`AIDGRAPH_POLICY_SINGLE_PERSON`, for a
one-person test deployment); the approval then says so. A rollback is a new draft holding an earlier
version's document, approved like any other.

A draft's author may edit it while it is a draft (`edit_draft`: the console's matrix edits a cell so);
it keeps its number, and its SHA-256 changes. An approval names the SHA-256 of the text the approver
read, and is refused when the draft was edited since: what is published is what was approved.

Each change and its audit event are one transaction, under one lock, so two approvals cannot both
pass the base check, and no change is stored without its event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, TypedDict, TypeVar

import sqlalchemy as sa

from auth.audit import AuditEvent, AuditLog, Caller, audit_event
from auth.audit.writer import lock_chain
from auth.hub_keys import AUDIT_KEY, hub_key
from auth.policy import load_policy
from auth.policy_store import APPROVED, DRAFT, WITHDRAWN, Status, live_version, store_version
from auth.tables import policy_version

POLICY_DRAFTED: Final = "policy-drafted"
POLICY_APPROVED: Final = "policy-approved"
POLICY_WITHDRAWN: Final = "policy-withdrawn"
POLICY_EDITED: Final = "policy-edited"
# pg_advisory_xact_lock key of policy changes: one at a time, so a base checked is still live at commit.
_POLICY_LOCK: Final = int.from_bytes(hashlib.sha256(b"aidgraph.policy_version").digest()[:8], "big", signed=True)
_NAME_LENGTH: Final = 100
_REASON_LENGTH: Final = 500

T = TypeVar("T")


class PolicyAdminError(ValueError):
    """A policy change that is refused; the message says why (and what to do instead)."""


@dataclass(frozen=True, kw_only=True)
class VersionRecord:
    """One policy version as the versions list shows it: who made it, when and why, and who decided."""

    version: int
    status: Status
    live: bool
    author: str
    made_at: datetime
    reason: str | None
    based_on: int | None
    approved_by: str | None
    approved_at: datetime | None
    withdrawn_by: str | None
    withdrawn_at: datetime | None
    sha256: str


def make_draft(
    engine: sa.Engine,
    text: str,
    *,
    by: str,
    reason: str | None = None,
    source: str = "policy",
    client_id: str | None = None,
) -> int:
    """Check `text` (as `policy apply` always has) and store it as a draft; return its version number.

    `by` is the person acting; `client_id` the channel they act through, for the event (`console`; None:
    the command line). The same holds for every change here."""
    policy = load_policy(text, source=source)
    author = _person(by, "--by")
    why = _reason(reason)

    def draft(connection: sa.Connection) -> tuple[int, AuditEvent]:
        version = store_version(connection, policy, applied_by=author, status=DRAFT, reason=why)
        base = live_version(connection)  # what store_version based it on: a draft changes nothing live
        words = f"version {version} (sha256 {policy.sha256[:16]}) by {author} from {source}, {_based(base)}"
        detail = words + (f": {why}" if why else "")
        by_whom = _by(author, version, client_id)
        return version, audit_event(POLICY_DRAFTED, operation="policy apply", detail=detail, **by_whom)

    return _change(engine, draft)


def approve(
    engine: sa.Engine,
    version: int,
    *,
    by: str,
    single_person: bool,
    sha256: str | None = None,
    client_id: str | None = None,
) -> None:
    """Publish draft `version`: it becomes the live version, named with its author and its approver.

    `sha256` is the text the approver read (the console's page sends the one it showed): a draft
    edited since is refused. None approves the draft as stored (the command line names no text)."""
    approver = _person(by, "--by")

    def publish(connection: sa.Connection) -> tuple[None, AuditEvent]:
        row = _draft(connection, version, "approved")
        if sha256 is not None and sha256 != row["sha256"]:
            raise PolicyAdminError(
                f"version {version} was edited since it was read (sha256 {row['sha256'][:16]} now, not"
                f" {sha256[:16]}): read it again before approving"
            )
        live = live_version(connection)
        if row["based_on"] != live:
            now = f"version {live} is live now" if live is not None else "no version is live now"
            raise PolicyAdminError(
                f"version {version} was drafted against {_base_name(row['based_on'])}, but {now}: draft the change"
                f" again on version {live} (aidgraph policy export, edit, aidgraph policy apply)"
            )
        own = _same_person(row["applied_by"], approver)
        if own and not single_person:
            raise PolicyAdminError(
                f"version {version} was drafted by {row['applied_by']}: a second person must approve it (four eyes)"
            )
        _update(connection, version, status=APPROVED, approved_by=approver, approved_at=datetime.now(UTC))
        alone = " (its own author: this hub allows a single person, AIDGRAPH_POLICY_SINGLE_PERSON)" if own else ""
        # The text approved is the version's own: once approved it is never edited again.
        detail = f"version {version} drafted by {row['applied_by']}, approved by {approver}{alone}"
        by_whom = _by(approver, version, client_id)
        return None, audit_event(POLICY_APPROVED, operation="policy approve", detail=detail, **by_whom)

    _change(engine, publish)


def withdraw(engine: sa.Engine, version: int, *, by: str, client_id: str | None = None) -> None:
    """Withdraw draft `version`: it is kept, never approved."""
    person = _person(by, "--by")

    def take_back(connection: sa.Connection) -> tuple[None, AuditEvent]:
        row = _draft(connection, version, "withdrawn")
        _update(connection, version, status=WITHDRAWN, withdrawn_by=person, withdrawn_at=datetime.now(UTC))
        detail = f"version {version} drafted by {row['applied_by']}, withdrawn by {person}"
        by_whom = _by(person, version, client_id)
        return None, audit_event(POLICY_WITHDRAWN, operation="policy withdraw", detail=detail, **by_whom)

    _change(engine, take_back)


def edit_draft(engine: sa.Engine, version: int, text: str, *, by: str, client_id: str | None = None) -> str:
    """Replace draft `version`'s document with `text` (checked as any draft is); return its new SHA-256.

    Only its author may, and only while it is a draft. The number, base and reason stay: an approval
    that read the text before is refused (`approve(..., sha256=...)`)."""
    policy = load_policy(text, source=f"policy version {version}")
    person = _person(by, "--by")

    def replace_text(connection: sa.Connection) -> tuple[str, AuditEvent]:
        row = _draft(connection, version, "edited")
        if not _same_person(row["applied_by"], person):
            raise PolicyAdminError(f"version {version} is {row['applied_by']}'s draft: only its author edits it")
        connection.execute(
            policy_version.update()
            .where(policy_version.c.version == version, policy_version.c.status == DRAFT)
            .values(document=policy.text, sha256=policy.sha256)
        )
        detail = f"version {version} edited by {person}: sha256 {row['sha256'][:16]} -> {policy.sha256[:16]}"
        by_whom = _by(person, version, client_id)
        return policy.sha256, audit_event(POLICY_EDITED, operation="policy edit", detail=detail, **by_whom)

    return _change(engine, replace_text)


def rollback(engine: sa.Engine, to_version: int, *, by: str, client_id: str | None = None) -> int:
    """A new draft holding version `to_version`'s document (reason "rollback to K"); return its number."""
    with engine.connect() as connection:
        row = _row(connection, to_version)
        live = live_version(connection)
    if row["status"] != APPROVED:
        raise PolicyAdminError(f"version {to_version} was never live ({row['status']}): roll back to an approved one")
    if to_version == live:
        raise PolicyAdminError(f"version {to_version} is the live version already")
    return make_draft(
        engine,
        row["document"],
        by=by,
        reason=f"rollback to {to_version}",
        source=f"policy version {to_version}",
        client_id=client_id,
    )


def versions(engine: sa.Engine) -> list[VersionRecord]:
    """Every version, newest first."""
    with engine.connect() as connection:
        live = live_version(connection)
        rows = connection.execute(sa.select(policy_version).order_by(policy_version.c.version.desc())).mappings()
        return [
            VersionRecord(
                version=row["version"],
                status=row["status"],
                live=row["version"] == live,
                author=row["applied_by"],
                made_at=row["applied_at"],
                reason=row["reason"],
                based_on=row["based_on"],
                approved_by=row["approved_by"],
                approved_at=row["approved_at"],
                withdrawn_by=row["withdrawn_by"],
                withdrawn_at=row["withdrawn_at"],
                sha256=row["sha256"],
            )
            for row in rows
        ]


# --- one change, its lock and its event --------------------------------------------------------


def _change(engine: sa.Engine, work: Callable[[sa.Connection], tuple[T, AuditEvent]]) -> T:
    """Run `work` under the policy lock, and write its event in the same transaction: both commit or neither."""
    hub_key(engine, AUDIT_KEY)  # read (or made) before the lock: making it takes a connection of its own
    with engine.connect() as connection:
        lock_chain(connection)  # SQLite: the write lock, which serialises policy changes as well
        if connection.dialect.name == "postgresql":
            connection.execute(sa.select(sa.func.pg_advisory_xact_lock(_POLICY_LOCK)))
        result, event = work(connection)
        AuditLog(engine).append_within(connection, [event])
        connection.commit()
    return result


class _HubChange(TypedDict):
    caller: Caller
    actor: str
    document_hash: None


def _by(person: str, version: int, client_id: str | None) -> _HubChange:
    """Who a policy change's event names: the person acting, the channel (`console`, or no client at the
    command line), the version changed.

    No document hash: the policy is named by its version and SHA-256, and holds no personal data."""
    caller = Caller(client_id=client_id, policy_version=version)
    return {"caller": caller, "actor": person, "document_hash": None}


def _row(connection: sa.Connection, version: int) -> sa.RowMapping:
    row = connection.execute(sa.select(policy_version).where(policy_version.c.version == version)).mappings().first()
    if row is None:
        raise PolicyAdminError(f"no policy version {version}")
    return row


def _draft(connection: sa.Connection, version: int, becoming: str) -> sa.RowMapping:
    row = _row(connection, version)
    if row["status"] != DRAFT:
        raise PolicyAdminError(f"version {version} is {row['status']}, not a draft: only a draft can be {becoming}")
    return row


def _update(connection: sa.Connection, version: int, **values: object) -> None:
    connection.execute(
        policy_version.update()
        .where(policy_version.c.version == version, policy_version.c.status == DRAFT)
        .values(**values)
    )


def _person(name: str, what: str) -> str:
    person = name.strip()
    if not person or len(person) > _NAME_LENGTH or not person.isprintable():
        raise PolicyAdminError(f"{what} names the person acting: 1 to {_NAME_LENGTH} printable characters")
    return person


def _reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    if len(reason) > _REASON_LENGTH or not reason.isprintable():
        raise PolicyAdminError(f"the reason is 1 to {_REASON_LENGTH} printable characters on one line")
    return reason.strip()


def _same_person(first: str, second: str) -> bool:
    return first.strip().casefold() == second.strip().casefold()


def _base_name(base: int | None) -> str:
    return f"version {base}" if base is not None else "no live version"


def _based(base: int | None) -> str:
    return f"based on version {base}" if base is not None else "based on no live version"
