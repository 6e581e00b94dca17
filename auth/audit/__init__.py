"""The audit trail (DESIGN §3): one append-only, hash-chained event per request or change, its check, its look-up.

- `auth.audit.event`: `AuditEvent`, what one request did;
- `auth.audit.writer`: `AuditLog` (append to the chain), `AuditWriter` (a running hub's group commit);
- `auth.audit.verifier`: `verify`, naming the first broken link (`chain_hash`, `content_digest`);
- `auth.audit.lookup`: `access_log`, who read a given person's data.
"""

from auth.audit.event import AuditEvent, AuditUnavailable
from auth.audit.lookup import AccessLogEntry, access_log
from auth.audit.verifier import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    HASHED_WHEN_SET,
    VerifyReport,
    chain_hash,
    content_digest,
    format_report,
    verify,
)
from auth.audit.writer import AuditLog, AuditWriter

__all__ = [
    "GENESIS_HASH",
    "HASHED_COLUMNS",
    "HASHED_WHEN_SET",
    "AccessLogEntry",
    "AuditEvent",
    "AuditLog",
    "AuditUnavailable",
    "AuditWriter",
    "VerifyReport",
    "access_log",
    "chain_hash",
    "content_digest",
    "format_report",
    "verify",
]
