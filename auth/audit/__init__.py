"""The audit trail (DESIGN §3): one append-only, hash-chained event per request or change, its check, its look-up.

- `auth.audit.event`: `AuditEvent`, its one builder `audit_event`, and the keyed `document_digest`;
- `auth.audit.writer`: `AuditLog` (append to the chain), `AuditWriter` (a running hub's group commit,
  and the counted unauthenticated refusals of `auth.audit.refusals`);
- `auth.audit.verifier`: `verify`, naming the first broken link (`chain_hash`, `content_digest`);
- `auth.audit.lookup`: `access_log`, who read a given person's data; `events_in_window`, the events of a time span;
- `auth.audit.search`: `search`, events by client, purpose, outcome, operation, time and resident, paged;
- `auth.audit.rows`: reading a stored event back (`StoredEvent`), shared by the look-ups;
- `auth.audit.profiles`: the fields an event disclosed, stored once per distinct profile and named by
  `disclosure_key`.
"""

from auth.audit.event import (
    DOCUMENT_HASH_PREFIX,
    NOT_FOUND,
    AuditEvent,
    AuditUnavailable,
    Caller,
    Disclosed,
    DisclosedFields,
    audit_event,
    document_digest,
    document_hash,
    misses_detail,
)
from auth.audit.lookup import AccessLogEntry, access_log, events_in_window
from auth.audit.profiles import disclosure_key
from auth.audit.refusals import UNAUTHENTICATED
from auth.audit.rows import StoredEvent
from auth.audit.search import FilterChoices, SearchError, SearchPage, distinct_values, search
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
    "DOCUMENT_HASH_PREFIX",
    "GENESIS_HASH",
    "NOT_FOUND",
    "HASHED_COLUMNS",
    "HASHED_WHEN_SET",
    "UNAUTHENTICATED",
    "AccessLogEntry",
    "AuditEvent",
    "AuditLog",
    "AuditUnavailable",
    "AuditWriter",
    "Caller",
    "Disclosed",
    "DisclosedFields",
    "FilterChoices",
    "SearchError",
    "SearchPage",
    "StoredEvent",
    "VerifyReport",
    "access_log",
    "audit_event",
    "chain_hash",
    "content_digest",
    "disclosure_key",
    "document_digest",
    "distinct_values",
    "document_hash",
    "events_in_window",
    "format_report",
    "misses_detail",
    "search",
    "verify",
]
