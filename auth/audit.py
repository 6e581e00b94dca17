"""The audit trail (DESIGN §3): one append-only, hash-chained event per request, its check, and its look-up.

Every request that returns personal data, and every refused one, is written as an `AuditEvent` by
`AuditLog.append` before the answer leaves the hub; if it cannot be written, `append` raises
`AuditUnavailable` and the request fails (no unaudited reads).

The chain. Events are numbered 1, 2, 3... in one linear sequence (`seq`). Each stores `prev_hash`, the
`hash` of the event before it (64 zeros for the first), and its own `hash`:
`sha256(f"{seq}:{prev_hash}:{digest}")`, where `digest` is SHA-256 over a canonical serialisation of
every other stored column (`content_digest`, `chain_hash`). Writers are serialised so the chain never
forks: PostgreSQL by a transaction-scoped advisory lock inside the `audit_append` function (migration
0004: one round trip per batch of events), SQLite by `BEGIN IMMEDIATE` (the write lock). The primary key on
`seq` refuses a fork even if that ever failed.

What `verify` detects, walking the chain in `seq` order and naming the first broken link:
- an edited event: its stored hash no longer matches its contents (named: that seq); an editor who also
  recomputes the hash breaks the next event's `prev_hash` instead (named: the next seq);
- a deleted event in the middle, or the first ones: a gap in `seq` (named: the event after the gap);
- an event inserted out of chain: a `prev_hash` that is not its predecessor's hash, or a gap;
- `audit_subject` rows that disagree with their event's subjects (a row removed to hide an access from
  `access_log`, or added to invent one), or that name no event (e.g. left behind by a deleted event).
What it cannot detect from the database alone:
- deleting the newest events (truncating the tail) with their subject rows: what remains is a valid,
  shorter chain. It is detected only against an anchor kept elsewhere: `verify` reports the head
  (`last_seq`, `last_hash`); record it outside the database (the CLI output in an external log, a
  ticket, a timestamping service) and pass it back as `anchor=(seq, hash)` later;
- rewriting the chain from some event on, hashes recomputed (the hash is unkeyed, so anyone able to
  write the tables can): again only an external anchor at or after that point shows it.
Append-only storage (migration 0003) makes both need a database superuser or the tables' owner.

Append-only on PostgreSQL (migration 0003): triggers refuse UPDATE, DELETE and TRUNCATE on
`audit_event` and `audit_subject` for everyone, owner included, and PUBLIC holds none of those
privileges. The owner, and superusers, can still drop or disable the triggers, so a deployment runs the
hub under a role that does not own the tables, granted only what the trail needs::

    -- as the tables' owner (the role that runs the migrations):
    CREATE ROLE aidgraph_app LOGIN PASSWORD '...';
    GRANT SELECT, INSERT ON audit_event, audit_subject TO aidgraph_app;
    GRANT SELECT, INSERT ON hub_secret TO aidgraph_app;  -- reads the audit key, creates it on first use
    -- (plus what the rest of the hub needs on its other tables; never UPDATE/DELETE/TRUNCATE here)

SQLite has no roles or triggers here: it is the single-machine default, where whoever can write the
file can do anything; the chain still shows edits and deletions in the middle.

Subjects are pseudonymised: `audit_event.subjects` and `audit_subject.subject` hold
`auth.masks.pseudonym(id, key=<hub audit key>)`, never resident ids. The key (`hub_secret` row
`audit-key`) is made on first use. It keeps resident ids out of exports and logs of the trail; it does
not hide them from someone who can read `hub_secret`, who can compute the pseudonym of any id.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, cast

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from starlette.concurrency import run_in_threadpool

from auth.masks import MaskError, pseudonym
from auth.tables import audit_event, audit_subject, hub_secret

GENESIS_HASH: Final = "0" * 64
AUDIT_KEY_NAME: Final = "audit-key"
# pg_advisory_xact_lock key of the chain's one writer at a time: the first 8 bytes of
# sha256(b"aidgraph.audit_event"), so no other lock in the database is likely to share it.
_CHAIN_LOCK: Final = int.from_bytes(hashlib.sha256(b"aidgraph.audit_event").digest()[:8], "big", signed=True)

# The columns `chain_hash` covers, in the table's order: every stored column but `hash`. Spelled out so
# that adding a column is a decision about old events' hashes (a test holds this to the table).
HASHED_COLUMNS: Final = (
    "seq", "at", "client_id", "roles", "purpose", "case_id", "operation", "document_hash", "subjects",
    "revealed", "masked", "withheld", "outcome", "detail", "policy_version", "prev_hash",
)  # fmt: skip
# Text columns and their lengths, for `_clip`.
_CLIPPED: Final[dict[str, int]] = {
    name: cast(sa.String, audit_event.c[name].type).length or 0
    for name in ("client_id", "purpose", "case_id", "operation", "document_hash", "outcome", "detail")
}


class AuditUnavailable(Exception):
    """The event could not be written; the request it describes must fail."""


@dataclass(frozen=True, kw_only=True)
class AuditEvent:
    """What one request did, as its caller knows it.

    `subjects` are the resident ids the answer returned (any spelling); they are stored only as
    pseudonyms. `revealed`, `masked` and `withheld` name fields as `Type.field`. `outcome` is a short
    word such as `ok`, `partial` (some fields withheld or sources failed) or `refused`; `detail` says
    why, in words (a refusal's reason). Lists are stored sorted and without repeats; text longer than
    its column is cut, marked with `…`.
    """

    at: datetime
    client_id: str | None
    outcome: str
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
class AccessLogEntry:
    """One event that returned a given person: who read their data, when, why, and what they saw."""

    seq: int
    at: datetime
    client_id: str | None
    roles: tuple[str, ...]
    purpose: str | None
    case_id: str | None
    operation: str | None
    outcome: str
    revealed: tuple[str, ...]
    masked: tuple[str, ...]
    withheld: tuple[str, ...]


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of `verify`.

    `events_checked` counts the events found intact before the first problem (all of them when `ok`).
    `last_seq` and `last_hash` are the head of the intact part: record them outside the database and
    pass them back as `verify(..., anchor=(last_seq, last_hash))` to detect a truncated tail later.
    """

    ok: bool
    events_checked: int
    first_bad_seq: int | None = None
    problem: str | None = None
    last_seq: int | None = None
    last_hash: str | None = None


class AuditLog:
    """Appends events to the chain. One per engine; safe to share between threads and requests."""

    def __init__(self, engine: sa.Engine) -> None:
        self._engine = engine
        self._key: bytes | None = None  # the hub audit key, read once

    def append(self, event: AuditEvent) -> int:
        """Write one event (and its subject rows) in one transaction; return its seq.

        Raises AuditUnavailable when the store cannot take it.
        """
        return self.append_many([event])[0]

    def append_many(self, events: Sequence[AuditEvent]) -> list[int]:
        """Write events in the given order, all in one transaction; return their seqs.

        Raises AuditUnavailable when the store cannot take them (then none is written).
        """
        if not events:
            return []
        stored = [_stored_values(event) for event in events]
        try:
            key = self._key if self._key is not None else self._load_key()
            # Pseudonyms before the lock: the lock is held only for the read and the inserts.
            rows = [
                {**values, "subjects": sorted({_subject_pseudonym(id_number, key=key) for id_number in event.subjects})}
                for values, event in zip(stored, events, strict=True)
            ]
            if self._engine.dialect.name == "postgresql":
                return self._append_in_server(rows)
            with self._engine.begin() as connection:
                _lock_chain(connection)  # first: on SQLite it is the BEGIN of this transaction
                last = connection.execute(_LAST_EVENT).first()
                seq, prev_hash = (last.seq, last.hash) if last is not None else (0, GENESIS_HASH)
                seqs = []
                for row in rows:
                    seq += 1
                    linked = {**row, "seq": seq, "prev_hash": prev_hash}
                    linked["hash"] = prev_hash = chain_hash(linked)
                    _insert(connection, linked)
                    seqs.append(seq)
        except sa.exc.SQLAlchemyError as error:
            raise AuditUnavailable(f"the audit event could not be written: {type(error).__name__}") from error
        return seqs

    def _append_in_server(self, rows: list[dict[str, Any]]) -> list[int]:
        """PostgreSQL: lock, link and insert in the server, one statement in its own transaction."""
        batch = [{**row, "at": _utc(row["at"]).isoformat(), "digest": content_digest(row)} for row in rows]
        parameters = {"lock": _CHAIN_LOCK, "events": orjson.dumps(batch).decode()}
        with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            last = int(connection.execute(_APPEND_PG, parameters).scalar_one())
        return list(range(last - len(rows) + 1, last + 1))

    def _load_key(self) -> bytes:
        with self._engine.begin() as connection:
            key = _read_key(connection)
            if key is None:
                # Insert-if-absent, then read what won: hub workers starting at once agree on one key.
                statement = _insert_ignoring_conflict(connection, hub_secret).values(
                    name=AUDIT_KEY_NAME, value=secrets.token_hex(32), updated_at=datetime.now(UTC)
                )
                connection.execute(statement)
                key = _read_key(connection)
        if key is None:  # pragma: no cover - the row was just inserted, or was there already
            raise AuditUnavailable("the audit key could not be created")
        self._key = key
        return key


def content_digest(row: Mapping[Any, Any]) -> str:
    """SHA-256 (hex) of the event's contents: `HASHED_COLUMNS` but `seq` and `prev_hash`, as JSON with
    keys sorted and `at` in UTC."""
    payload = {name: row[name] for name in HASHED_COLUMNS if name not in ("seq", "prev_hash")}
    payload["at"] = _utc(row["at"]).isoformat(timespec="microseconds")
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def chain_hash(row: Mapping[Any, Any]) -> str:
    """The event's link: `sha256(f"{seq}:{prev_hash}:{content_digest}")` (hex), as `audit_append` makes it."""
    return hashlib.sha256(f"{row['seq']}:{row['prev_hash']}:{content_digest(row)}".encode()).hexdigest()


def verify(engine: sa.Engine, *, anchor: tuple[int, str] | None = None, batch_size: int = 1000) -> VerifyReport:
    """Walk the chain in seq order and name its first broken link (see the module docstring).

    Streams events and subject rows side by side (server-side cursors on PostgreSQL), so memory stays
    constant however long the trail. It checks the trail as it was when the check began.
    `anchor` is a `(seq, hash)` head recorded earlier: that event must still be there, unchanged.
    """
    with engine.connect() as connection:
        _read_snapshot(connection)  # the two streams see the same trail, however many appends meanwhile
        options = {"yield_per": batch_size}
        events = connection.execute(
            sa.select(*(audit_event.c[name] for name in (*HASHED_COLUMNS, "hash"))).order_by(audit_event.c.seq),
            execution_options=options,
        )
        subject_rows = connection.execute(
            sa.select(audit_subject.c.seq, audit_subject.c.subject).order_by(audit_subject.c.seq),
            execution_options=options,
        )
        with events, subject_rows:  # closes the server-side cursors when the walk stops early
            subjects = _Peekable((seq, subject) for seq, subject in subject_rows)
            return _walk(events.mappings(), subjects, anchor=anchor)


def format_report(report: VerifyReport) -> str:
    """One line for the command line."""
    if report.ok and report.last_seq is None:
        return "audit trail ok: no events yet"
    if report.ok:
        return (
            f"audit trail ok: {report.events_checked} events checked; "
            f"head seq {report.last_seq} hash {report.last_hash}"
        )
    return (
        f"audit trail BROKEN at seq {report.first_bad_seq}: {report.problem} "
        f"({report.events_checked} events before it are intact)"
    )


def access_log(engine: sa.Engine, id_number: str, *, first: int, after_seq: int | None = None) -> list[AccessLogEntry]:
    """The events that returned this person, newest first: at most `first`, older than `after_seq`.

    `id_number` is a resident id (18-digit; other valid spellings name the same person). Raises
    ValueError (MaskError) when it is not a valid id.
    """
    if first < 0:
        raise ValueError("first must not be negative")
    with engine.connect() as connection:
        key = _read_key(connection)
        # Computed even without a key, so that an invalid id is refused whether or not events exist.
        subject = pseudonym(id_number, key=key or b"no audit key yet")
        if key is None or first == 0:
            return []  # no key: no event was ever written
        query = (
            sa.select(audit_event)
            .join(audit_subject, audit_subject.c.seq == audit_event.c.seq)
            .where(audit_subject.c.subject == subject)
            .order_by(audit_subject.c.seq.desc())
            .limit(first)
        )
        if after_seq is not None:
            query = query.where(audit_subject.c.seq < after_seq)
        rows = connection.execute(query).mappings().all()
    return [
        AccessLogEntry(
            seq=row["seq"],
            at=_utc(row["at"]),
            client_id=row["client_id"],
            roles=tuple(row["roles"]),
            purpose=row["purpose"],
            case_id=row["case_id"],
            operation=row["operation"],
            outcome=row["outcome"],
            revealed=tuple(row["revealed"]),
            masked=tuple(row["masked"]),
            withheld=tuple(row["withheld"]),
        )
        for row in rows
    ]


# --- writing ---

_LAST_EVENT: Final = sa.select(audit_event.c.seq, audit_event.c.hash).order_by(audit_event.c.seq.desc()).limit(1)
_APPEND_PG: Final = sa.text("SELECT audit_append(:lock, CAST(:events AS json))")


def _lock_chain(connection: sa.Connection) -> None:
    """SQLite: become the chain's only writer until this transaction ends (PostgreSQL: in audit_append)."""
    # pysqlite (legacy transaction control) opens no transaction before a SELECT and a deferred
    # one before an INSERT; issued first, this takes the write lock before the last event is read.
    # The driver commits or rolls it back when SQLAlchemy ends the transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _read_snapshot(connection: sa.Connection) -> None:
    """Make every statement of this transaction read one snapshot."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY"))
    elif connection.dialect.name == "sqlite":
        # pysqlite opens no transaction for a SELECT; this one holds the read snapshot until rollback.
        connection.exec_driver_sql("BEGIN")


def _insert(connection: sa.Connection, row: dict[str, Any]) -> None:
    # SQLite is in-process: two statements cost no extra round trip
    connection.execute(sa.insert(audit_event), row)
    if row["subjects"]:
        connection.execute(
            sa.insert(audit_subject), [{"subject": subject, "seq": row["seq"]} for subject in row["subjects"]]
        )


def _stored_values(event: AuditEvent) -> dict[str, Any]:
    if event.at.tzinfo is None or event.at.utcoffset() is None:
        raise ValueError("the event's time must be timezone-aware")
    if event.policy_version is not None and not isinstance(event.policy_version, int):
        raise ValueError("policy_version must be an integer")
    _sorted_texts(event.subjects, what="subjects")  # a lone string would be read as 18 one-letter ids
    values: dict[str, Any] = {
        "at": event.at.astimezone(UTC),
        "roles": _sorted_texts(event.roles, what="roles"),
        "revealed": _sorted_texts(event.revealed, what="revealed"),
        "masked": _sorted_texts(event.masked, what="masked"),
        "withheld": _sorted_texts(event.withheld, what="withheld"),
        "policy_version": event.policy_version,
    }
    for name, length in _CLIPPED.items():
        values[name] = _clip(getattr(event, name), length=length)
    if not values["outcome"]:
        raise ValueError("an event needs an outcome")
    return values


def _sorted_texts(values: Sequence[str], *, what: str) -> list[str]:
    if isinstance(values, str) or not all(isinstance(value, str) for value in values):
        raise ValueError(f"{what} must be a list of strings")
    return sorted(set(values))


def _clip(text: str | None, *, length: int) -> str | None:
    # Cut rather than refuse: a refused request's declared purpose or operation name is the client's
    # text, and an over-long one must still be audited, not turn into AuditUnavailable.
    if text is None or len(text) <= length:
        return text
    return text[: length - 1] + "…"


def _subject_pseudonym(id_number: str, *, key: bytes) -> str:
    try:
        return pseudonym(id_number, key=key)
    except MaskError:
        # Not a valid id (a legacy record's typo): still recorded, keyed the same way, never in clear.
        raw = str(id_number).strip().encode("utf-8")
        return "x_" + hmac.new(key, raw, hashlib.sha256).hexdigest()[:16]


def _read_key(connection: sa.Connection) -> bytes | None:
    value = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == AUDIT_KEY_NAME)).scalar()
    return bytes.fromhex(value) if value is not None else None


def _insert_ignoring_conflict(connection: sa.Connection, table: sa.Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table).on_conflict_do_nothing()


def _utc(moment: datetime) -> datetime:
    # SQLite hands back the naive UTC time it was given; PostgreSQL an aware one in the session's zone.
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --- verifying ---


class _Peekable:
    """The `(seq, subject)` rows of audit_subject in seq order, looked at one ahead."""

    def __init__(self, rows: Iterator[tuple[int, str]]) -> None:
        self._rows = rows
        self._next: tuple[int, str] | None = next(rows, None)

    def peek(self) -> tuple[int, str] | None:
        return self._next

    def take(self) -> tuple[int, str]:
        row = self._next
        assert row is not None
        self._next = next(self._rows, None)
        return row


@dataclass
class _Walk:
    checked: int = 0
    last_seq: int = 0
    last_hash: str = GENESIS_HASH
    anchor_seen: bool = False

    def broken(self, seq: int, problem: str) -> VerifyReport:
        return VerifyReport(
            ok=False,
            events_checked=self.checked,
            first_bad_seq=seq,
            problem=problem,
            last_seq=self.last_seq or None,
            last_hash=self.last_hash if self.last_seq else None,
        )


def _walk(events: Iterable[sa.RowMapping], subjects: _Peekable, *, anchor: tuple[int, str] | None) -> VerifyReport:
    walk = _Walk()
    for event in events:
        seq = event["seq"]
        problem = _link_problem(event, last_seq=walk.last_seq, last_hash=walk.last_hash)
        if problem is not None:
            return walk.broken(seq, problem)
        orphan = subjects.peek()
        if orphan is not None and orphan[0] < seq:
            return walk.broken(orphan[0], f"audit_subject rows name seq {orphan[0]}, which has no event")
        listed: list[str] = []
        while (row := subjects.peek()) is not None and row[0] == seq:
            listed.append(subjects.take()[1])
        if sorted(listed) != sorted(event["subjects"]):
            return walk.broken(seq, _subjects_problem(expected=event["subjects"], found=listed))
        if anchor is not None and seq == anchor[0]:
            if event["hash"] != anchor[1]:
                return walk.broken(seq, f"seq {seq} is not the event anchored earlier (its hash differs)")
            walk.anchor_seen = True
        walk.checked += 1
        walk.last_seq, walk.last_hash = seq, event["hash"]
    orphan = subjects.peek()
    if orphan is not None:
        return walk.broken(orphan[0], f"audit_subject rows name seq {orphan[0]}, which has no event")
    if anchor is not None and not walk.anchor_seen:
        return walk.broken(
            walk.last_seq + 1,
            f"the chain ends at seq {walk.last_seq}, but seq {anchor[0]} was anchored earlier: "
            f"events {walk.last_seq + 1}..{anchor[0]} were deleted",
        )
    return VerifyReport(
        ok=True,
        events_checked=walk.checked,
        last_seq=walk.last_seq or None,
        last_hash=walk.last_hash if walk.last_seq else None,
    )


def _link_problem(event: sa.RowMapping, *, last_seq: int, last_hash: str) -> str | None:
    seq = event["seq"]
    if chain_hash(event) != event["hash"]:
        return f"seq {seq} was edited: its contents no longer match its hash"
    if seq != last_seq + 1:
        if seq <= last_seq:  # pragma: no cover - seq is the primary key, read in order
            return f"seq {seq} repeats or goes back after seq {last_seq}"
        missing = f"seq {last_seq + 1}" if seq == last_seq + 2 else f"seqs {last_seq + 1}..{seq - 1}"
        return f"{missing} missing (deleted) before seq {seq}"
    if event["prev_hash"] != last_hash:
        before = f"seq {last_seq}'s hash" if last_seq else "the genesis hash (64 zeros)"
        return f"seq {seq}'s prev_hash is not {before}: seq {seq} was inserted out of chain, or its predecessor changed"
    return None


def _subjects_problem(*, expected: Sequence[str], found: Sequence[str]) -> str:
    missing = len(set(expected) - set(found))
    extra = len(set(found) - set(expected))
    return f"audit_subject rows disagree with the event's subjects ({missing} missing, {extra} not in the event)"


class AuditWriter:
    """Group commit for a running hub: requests await their event, written together with the events
    of the requests that arrived meanwhile (one transaction and round trip per batch, off the event
    loop). Each request still gets its answer only after its own event is stored.
    """

    def __init__(self, log: AuditLog) -> None:
        self._log = log
        self._waiting: list[tuple[AuditEvent, asyncio.Future[int]]] = []
        self._writing = False

    async def append(self, event: AuditEvent) -> int:
        _stored_values(event)  # a malformed event fails its own request here, not the batch it would join
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        return await future

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                try:
                    seqs = await run_in_threadpool(self._log.append_many, [event for event, _ in batch])
                except Exception as error:  # every waiting request fails: none of their events is stored
                    for _, future in batch:
                        future.set_exception(error)
                    continue
                for (_, future), seq in zip(batch, seqs, strict=True):
                    future.set_result(seq)
        finally:
            self._writing = False
