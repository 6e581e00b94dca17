"""Policy versions in the store: storing a checked YAML policy, exporting it, and serving the live one.

Every change is a new version (nothing is edited in place). A version is a draft, approved or withdrawn
(auth/policy_admin/ makes drafts and approves them, four eyes); the live version is the newest approved
one. A running hub checks for a newer live version at most every few seconds and compiles each once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final, Literal

import sqlalchemy as sa

from auth.audit import AuditLog, Caller, audit_event
from auth.policy import CompiledPolicy, Policy, load_policy
from auth.tables import policy_version

Status = Literal["draft", "approved", "withdrawn"]
DRAFT: Final = "draft"
APPROVED: Final = "approved"
WITHDRAWN: Final = "withdrawn"
HUB_SET_UP: Final = "the hub's set-up"
"""Who approves a version stored in one step (`apply_audited_policy`): named so in the version and its event."""


@dataclass(frozen=True, kw_only=True)
class StoredPolicy:
    version: int
    policy: Policy
    applied_by: str  # the author: who wrote the draft (or applied it in one step)
    applied_at: datetime
    status: Status = "approved"
    based_on: int | None = None
    reason: str | None = None
    approved_by: str | None = None
    approved_at: datetime | None = None


LIVE: Final = sa.select(sa.func.max(policy_version.c.version)).where(policy_version.c.status == APPROVED)
"""The live version's number: the newest approved one (None before any was approved)."""


def live_version(connection: sa.Connection) -> int | None:
    return connection.execute(LIVE).scalar_one_or_none()


def next_version(connection: sa.Connection) -> int:
    latest = connection.execute(sa.select(sa.func.max(policy_version.c.version))).scalar_one()
    return (latest or 0) + 1


def store_version(
    connection: sa.Connection,
    policy: Policy,
    *,
    applied_by: str,
    status: Status,
    reason: str | None = None,
    approved_by: str | None = None,
) -> int:
    """Store a checked policy as the next version (in the caller's transaction); return its number.

    Based on the version live now. The caller serialises changes (auth/policy_admin/ takes a lock).
    """
    now = datetime.now(UTC)
    version = next_version(connection)
    connection.execute(
        policy_version.insert().values(
            version=version,
            document=policy.text,
            sha256=policy.sha256,
            applied_by=applied_by,
            applied_at=now,
            status=status,
            based_on=live_version(connection),
            reason=reason,
            approved_by=approved_by,
            approved_at=now if approved_by is not None else None,
        )
    )
    return version


def apply_policy(connection: sa.Connection, text: str, *, applied_by: str, source: str = "policy") -> int:
    """Check `text` and store it as the next version, approved, live at once (in the caller's transaction).

    For tests and set-up only: unaudited and without a second person. People make drafts
    (auth.policy_admin.make_draft) and another person approves them.
    """
    policy = load_policy(text, source=source)
    return store_version(connection, policy, applied_by=applied_by, status=APPROVED, approved_by=applied_by)


def apply_audited_policy(engine: sa.Engine, text: str, *, applied_by: str, source: str = "policy") -> int:
    """The hub's one-step set-up (`serve --demo`): store a policy as the next version, approved by the hub's
    set-up, with its audit event (DESIGN §3: every change is audited) saying it was applied in one step.

    The policy is checked first; the event is written before the version is stored, so that a
    version never goes live unrecorded (if storing then fails, the event records an attempt).
    """
    policy = load_policy(text, source=source)
    with engine.connect() as connection:
        intended = next_version(connection)
    AuditLog(engine).append(
        audit_event(
            "policy-applied",
            caller=Caller.the_hub(policy_version=intended),
            actor=applied_by,
            operation="policy apply",
            document_hash=None,  # the policy is named by its SHA-256 in the detail: it holds no personal data
            detail=(
                f"version {intended} (sha256 {policy.sha256[:16]}) by {applied_by} from {source},"
                f" applied and approved in one step by {HUB_SET_UP}"
            ),
        )
    )
    with engine.begin() as connection:
        return store_version(connection, policy, applied_by=applied_by, status=APPROVED, approved_by=HUB_SET_UP)


def stored_policy(connection: sa.Connection, version: int | None = None) -> StoredPolicy | None:
    """The given version (whatever its status), or the live one; None when there is none."""
    number = version if version is not None else live_version(connection)
    if number is None:
        return None
    row = connection.execute(sa.select(policy_version).where(policy_version.c.version == number)).mappings().first()
    if row is None:
        return None
    return StoredPolicy(
        version=row["version"],
        policy=load_policy(row["document"], source=f"policy version {row['version']}"),
        applied_by=row["applied_by"],
        applied_at=row["applied_at"],
        status=row["status"],
        based_on=row["based_on"],
        reason=row["reason"],
        approved_by=row["approved_by"],
        approved_at=row["approved_at"],
    )


class PolicyCache:
    """The live policy of a running hub, compiled once per version; rechecked every `ttl` seconds.

    Only approved versions are served: a draft never reaches a request, however new it is.
    """

    def __init__(self, engine: sa.Engine, *, ttl: float = 5.0) -> None:
        self._engine = engine
        self._ttl = ttl
        self._lock = threading.Lock()
        self._current: CompiledPolicy | None = None
        self._checked = float("-inf")

    def current(self) -> CompiledPolicy | None:
        if time.monotonic() - self._checked < self._ttl:
            return self._current
        with self._lock:
            if time.monotonic() - self._checked >= self._ttl:
                self._refresh()
        return self._current

    def _refresh(self) -> None:
        with self._engine.connect() as connection:
            live = live_version(connection)
            if live is not None and (self._current is None or self._current.version != live):
                stored = stored_policy(connection, live)
                if stored is not None:
                    self._current = CompiledPolicy(stored.policy, stored.version)
        self._checked = time.monotonic()
