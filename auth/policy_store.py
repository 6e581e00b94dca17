"""Policy versions in the store: applying a YAML policy, exporting it, and serving the current one.

Every apply is a new version (nothing is edited in place); a running hub checks for a newer
version at most every few seconds and compiles each version once.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa

from auth.audit import AuditLog, Caller, audit_event
from auth.policy import CompiledPolicy, Policy, load_policy
from auth.tables import policy_version


@dataclass(frozen=True)
class StoredPolicy:
    version: int
    policy: Policy
    applied_by: str
    applied_at: datetime


def apply_policy(connection: sa.Connection, text: str, *, applied_by: str, source: str = "policy") -> int:
    """Check and store `text` as the next version (in the caller's transaction); return its number."""
    policy = load_policy(text, source=source)
    latest = connection.execute(sa.select(sa.func.max(policy_version.c.version))).scalar_one()
    version = (latest or 0) + 1
    connection.execute(
        policy_version.insert().values(
            version=version,
            document=policy.text,
            sha256=policy.sha256,
            applied_by=applied_by,
            applied_at=datetime.now(UTC),
        )
    )
    return version


def apply_audited_policy(engine: sa.Engine, text: str, *, applied_by: str, source: str = "policy") -> int:
    """Apply a policy as the next version, with its audit event (DESIGN §3: every change is audited).

    The policy is checked first; the event is written before the version is stored, so that a
    version never goes live unrecorded (if storing then fails, the event records an attempt).
    """
    policy = load_policy(text, source=source)
    with engine.connect() as connection:
        latest = connection.execute(sa.select(sa.func.max(policy_version.c.version))).scalar_one()
    intended = (latest or 0) + 1
    AuditLog(engine).append(
        audit_event(
            "policy-applied",
            caller=Caller.the_hub(policy_version=intended),
            actor=applied_by,
            operation="policy apply",
            document_hash=None,  # the policy is named by its SHA-256 in the detail: it holds no personal data
            detail=f"version {intended} (sha256 {policy.sha256[:16]}) by {applied_by} from {source}",
        )
    )
    with engine.begin() as connection:
        return apply_policy(connection, text, applied_by=applied_by, source=source)


def stored_policy(connection: sa.Connection, version: int | None = None) -> StoredPolicy | None:
    """The given version, or the newest one; None when no policy was ever applied."""
    query = sa.select(policy_version).order_by(policy_version.c.version.desc()).limit(1)
    if version is not None:
        query = sa.select(policy_version).where(policy_version.c.version == version)
    row = connection.execute(query).mappings().first()
    if row is None:
        return None
    return StoredPolicy(
        version=row["version"],
        policy=load_policy(row["document"], source=f"policy version {row['version']}"),
        applied_by=row["applied_by"],
        applied_at=row["applied_at"],
    )


class PolicyCache:
    """The current policy of a running hub, compiled once per version; rechecked every `ttl` seconds."""

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
            latest = connection.execute(sa.select(sa.func.max(policy_version.c.version))).scalar_one()
            if latest is not None and (self._current is None or self._current.version != latest):
                stored = stored_policy(connection, latest)
                if stored is not None:
                    self._current = CompiledPolicy(stored.policy, stored.version)
        self._checked = time.monotonic()
