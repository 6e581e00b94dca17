"""Writing the audit trail: `AuditLog` appends events to the chain, `AuditWriter` is a running hub's group commit.

Every request that returns personal data, and every refused request of an authenticated caller, is
written by `AuditLog.append` before the answer leaves the hub; if it cannot be written, `append` raises
`AuditUnavailable` and the request fails (no unaudited reads). Refusals of requests without a valid
token are only counted (auth/audit/refusals.py) and written later, a minute's worth at a time: a 401
never waits for the trail, nor fails when it is down.

Writers are serialised so the chain never forks: PostgreSQL by a transaction-scoped advisory lock
inside the `audit_append` function (migrations 0004, 0007: one round trip per batch of events), SQLite
by `BEGIN IMMEDIATE` (the write lock). The primary key on `seq` refuses a fork even if that ever failed.

Append-only on PostgreSQL (migrations 0003, 0007, 0016): triggers refuse UPDATE, DELETE and TRUNCATE on
`audit_event`, `audit_subject` and `audit_disclosure` for everyone, owner included, and PUBLIC holds none of those
privileges. The triggers are `ENABLE ALWAYS`, so a session in replica mode
(`session_replication_role = replica`, which skips ordinary triggers) is refused too. The owner, and
superusers, can still drop or disable the triggers, so a deployment runs the hub under a role that does
not own the tables, granted only what the trail needs::

    -- as the tables' owner (the role that runs the migrations):
    CREATE ROLE aidgraph_app LOGIN PASSWORD '...';
    GRANT SELECT, INSERT ON audit_event, audit_subject, audit_disclosure TO aidgraph_app;
    GRANT SELECT, INSERT ON hub_secret TO aidgraph_app;  -- reads the hub keys, creates them on first use
    -- (plus what the rest of the hub needs on its other tables; never UPDATE/DELETE/TRUNCATE here)

SQLite has no roles or triggers here: it is the single-machine default, where whoever can write the
file can do anything; the chain still shows edits and deletions in the middle.

The fields an event disclosed are stored once per distinct (revealed, masked, withheld) and named by
key (auth/audit/profiles.py): each batch stores the profiles this writer does not know to be stored,
in the batch's own transaction and under the chain's lock, before the events that name them.

Subjects are pseudonymised: `audit_event.subjects` and `audit_subject.subject` hold
`auth.masks.pseudonym(id, key=<hub audit key>)`, never resident ids. The key (`hub_secret` row
`audit-key`, auth/hub_keys.py) is made on first use. It keeps resident ids out of exports and logs of
the trail; it does not hide them from someone who can read `hub_secret`, who can compute the pseudonym
of any id.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final, cast

import orjson
import sqlalchemy as sa
from starlette.concurrency import run_in_threadpool

from auth import metrics
from auth.audit.event import AuditEvent, AuditUnavailable
from auth.audit.profiles import KnownProfiles, insert_profiles, profile_of, stored_by_key
from auth.audit.refusals import UNAUTHENTICATED, RefusalCounts, refusal_event
from auth.audit.verifier import GENESIS_HASH, chain_hash, content_digest, utc
from auth.hub_keys import AUDIT_KEY, HubKeyUnavailable, hub_key
from auth.masks import MaskError, pseudonym
from auth.request_log import describe_exception
from auth.tables import audit_event, audit_subject

log = logging.getLogger("aidgraph.audit")

# pg_advisory_xact_lock key of the chain's one writer at a time: the first 8 bytes of
# sha256(b"aidgraph.audit_event"), so no other lock in the database is likely to share it.
_CHAIN_LOCK: Final = int.from_bytes(hashlib.sha256(b"aidgraph.audit_event").digest()[:8], "big", signed=True)
# Text columns and their lengths, for `_clip`.
_CLIPPED: Final[dict[str, int]] = {
    name: cast(sa.String, audit_event.c[name].type).length or 0
    for name in ("client_id", "actor", "purpose", "case_id", "operation", "document_hash", "outcome", "detail")
}
# How often a running hub writes the counted refusals of the minutes that have ended.
REFUSALS_WRITTEN_EVERY_SECONDS: Final = 5.0


class AuditLog:
    """Appends events to the chain. One per engine; safe to share between threads and requests.

    `disclosure_by_key=False` writes each event's lists inline, as the hub did before migration 0016
    (bench/audit_append.py compares the two forms); the trail reads and verifies both.
    """

    def __init__(self, engine: sa.Engine, *, disclosure_by_key: bool = True) -> None:
        self._engine = engine
        self._by_key = disclosure_by_key
        self._known = KnownProfiles()

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
        try:
            # Pseudonyms and keys before the lock: the lock is held only for the read and the inserts.
            rows, profiles = self._rows(events)
            carried = self._known.unknown(profiles)
            try:
                seqs = self._write(rows, carried)
            except sa.exc.IntegrityError:
                if len(carried) == len(profiles):
                    raise
                # A key remembered as stored that the store does not hold (the foreign key refused the
                # event: a store restored, or replaced behind the same address): send every profile.
                self._known.forget(profile["key"] for profile in profiles)
                seqs = self._write(rows, profiles)
            self._known.learn(profile["key"] for profile in profiles)  # committed: they are stored
            return seqs
        except (sa.exc.SQLAlchemyError, HubKeyUnavailable) as error:
            raise AuditUnavailable(f"the audit event could not be written: {type(error).__name__}") from error

    def _write(self, rows: list[dict[str, Any]], profiles: list[dict[str, Any]]) -> list[int]:
        """One transaction: the profiles given (those already stored left alone), then the events."""
        if self._engine.dialect.name == "postgresql":
            with self._engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                return _append_in_server(connection, rows, profiles)
        with self._engine.begin() as connection:
            _lock_chain(connection)  # first: on SQLite it is the BEGIN of this transaction
            insert_profiles(connection, profiles)
            return _link(connection, rows)

    def append_within(self, connection: sa.Connection, events: Sequence[AuditEvent]) -> list[int]:
        """Write events inside the caller's open transaction: they commit, or roll back, with what it changed.

        A change and its event are one transaction, so there is never a change without its event. The
        transaction holds the chain's lock until it ends: on PostgreSQL `audit_append` takes it; on
        SQLite the caller must have begun with `lock_chain` (the write lock), before its first read.
        Raises AuditUnavailable when the store cannot take them; the caller then rolls back.
        Every profile is sent (none is taken as known, none learnt): the caller's transaction may still
        roll back, and a failed statement would end it, leaving no second try.
        """
        try:
            rows, profiles = self._rows(events)
            if connection.dialect.name == "postgresql":
                return _append_in_server(connection, rows, profiles)
            insert_profiles(connection, profiles)
            return _link(connection, rows)
        except (sa.exc.SQLAlchemyError, HubKeyUnavailable) as error:
            raise AuditUnavailable(f"the audit event could not be written: {type(error).__name__}") from error

    def _rows(self, events: Sequence[AuditEvent]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """The events' stored values, their subjects pseudonymised under the hub's audit key, their lists
        named by key; and the profiles they name, each once."""
        key = hub_key(self._engine, AUDIT_KEY)
        rows, profiles = [], {}
        for event in events:
            values = {
                **stored_values(event),
                "subjects": sorted({_subject_pseudonym(i, key=key) for i in event.subjects}),
            }
            profile = profile_of(values) if self._by_key else None
            if profile is not None:
                profiles[profile["key"]] = profile
            rows.append(stored_by_key(values, profile))
        return rows, list(profiles.values())


def _append_in_server(
    connection: sa.Connection, rows: list[dict[str, Any]], profiles: list[dict[str, Any]]
) -> list[int]:
    """PostgreSQL: lock, store the profiles given, link and insert in the server, one statement (`audit_append`)."""
    batch = [{**row, "at": utc(row["at"]).isoformat(), "digest": content_digest(row)} for row in rows]
    parameters = {
        "lock": _CHAIN_LOCK,
        "events": orjson.dumps(batch).decode(),
        "profiles": orjson.dumps(profiles).decode(),
    }
    last = int(connection.execute(_APPEND_PG, parameters).scalar_one())
    return list(range(last - len(rows) + 1, last + 1))


def _link(connection: sa.Connection, rows: list[dict[str, Any]]) -> list[int]:
    """SQLite, under the chain's lock: each event linked to the one before it, and inserted."""
    found = connection.execute(_LAST_EVENT).first()
    seq, prev_hash = (found.seq, found.hash) if found is not None else (0, GENESIS_HASH)
    seqs = []
    for row in rows:
        seq += 1
        linked = {**row, "seq": seq, "prev_hash": prev_hash}
        linked["hash"] = prev_hash = chain_hash(linked)
        _insert(connection, linked)
        seqs.append(seq)
    return seqs


class AuditWriter:
    """A running hub's writer: group commit for requests, and the counted refusals written each minute.

    Requests await their event, written together with the events of the requests that arrived meanwhile
    (one transaction and round trip per batch, off the event loop); each request still gets its answer
    only after its own event is stored. Unauthenticated refusals are counted (`count_unauthenticated`,
    which never waits) and written by the background task that `async with writer:` runs, and at its end.
    """

    def __init__(
        self,
        log: AuditLog,
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        refusals: RefusalCounts | None = None,
        every_seconds: float = REFUSALS_WRITTEN_EVERY_SECONDS,
    ) -> None:
        self._log = log
        self._clock = clock
        self._refusals = refusals if refusals is not None else RefusalCounts()
        self._every_seconds = every_seconds
        self._waiting: list[tuple[AuditEvent, asyncio.Future[int]]] = []
        self._writing = False
        self._task: asyncio.Task[None] | None = None

    async def append(self, event: AuditEvent) -> int:
        stored_values(event)  # a malformed event fails its own request here, not the batch it would join
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        self._waiting.append((event, future))
        if not self._writing:
            self._writing = True
            asyncio.get_running_loop().create_task(self._write())
        return await future

    @property
    def log(self) -> AuditLog:
        """The chain itself: for events written inside a change's own transaction (`AuditLog.append_within`)."""
        return self._log

    @property
    def waiting(self) -> int:
        """Events waiting for the next batch (the metrics' audit queue depth)."""
        return len(self._waiting)

    def count_unauthenticated(self, *, claimed_client_id: str | None, address: str | None, reason: str) -> None:
        """Count one refusal of a request without a valid token; written once its minute is over."""
        self.count_refusal(UNAUTHENTICATED, claimed=claimed_client_id, address=address, reason=reason)

    def count_refusal(self, outcome: str, *, claimed: str | None, address: str | None, reason: str) -> None:
        """Count one refusal of a kind `auth.audit.refusals` counts (a failed sign-in); never waits, any thread."""
        self._refusals.count(outcome=outcome, claimed=claimed, address=address, reason=reason, at=self._clock())

    async def write_refusals(self, *, everything: bool = False) -> int:
        """Write the counts of the minutes that have ended (all, when `everything`); return the events written.

        Counts that cannot be written are kept for the next time (and logged): the trail being down
        loses no count while the hub runs.
        """
        now_minute = self._clock().astimezone(UTC).replace(second=0, microsecond=0)
        taken = self._refusals.take(before=None if everything else now_minute)
        if not taken:
            return 0
        keys = list(taken)
        outcomes = await asyncio.gather(
            *(self.append(refusal_event(key, taken[key])) for key in keys), return_exceptions=True
        )
        failed = {key: taken[key] for key, done in zip(keys, outcomes, strict=True) if isinstance(done, BaseException)}
        if failed:
            log.warning("%d counts of unauthenticated refusals could not be written yet; kept", len(failed))
            self._refusals.put_back(failed)
        return len(keys) - len(failed)

    async def __aenter__(self) -> AuditWriter:
        self._task = asyncio.get_running_loop().create_task(self._write_refusals_periodically())
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.write_refusals(everything=True)  # at shutdown the current minute is over for this worker

    async def _write_refusals_periodically(self) -> None:
        while True:
            await asyncio.sleep(self._every_seconds)
            try:
                await self.write_refusals()
            except Exception as error:  # never let one bad round stop the counting being written
                # by type and place only: a database's message can quote the values it was given
                log.error("writing the counted unauthenticated refusals failed\n%s", describe_exception(error))

    async def _write(self) -> None:
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                metrics.audit_batch(len(batch))
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


def stored_values(event: AuditEvent) -> dict[str, Any]:
    """The event's columns as stored (before pseudonyms and the chain), or ValueError when it is malformed."""
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


_LAST_EVENT: Final = sa.select(audit_event.c.seq, audit_event.c.hash).order_by(audit_event.c.seq.desc()).limit(1)
_APPEND_PG: Final = sa.text("SELECT audit_append(:lock, CAST(:events AS json), CAST(:profiles AS json))")


@contextlib.contextmanager
def audited_change(engine: sa.Engine, event: AuditEvent) -> Iterator[sa.Connection]:
    """A transaction whose change commits with its event, or neither does (AuditUnavailable, or any refusal).

    The one way a change made by a person is written with its event: people of the console, client systems.
    """
    hub_key(engine, AUDIT_KEY)  # read first: making it takes a transaction of its own, which the lock would block
    with engine.begin() as connection:
        lock_chain(connection)  # before the first read: on SQLite, the write lock
        yield connection
        AuditLog(engine).append_within(connection, [event])


def lock_chain(connection: sa.Connection) -> None:
    """Begin a transaction that may append to the chain with `AuditLog.append_within` (SQLite's write lock;
    nothing on PostgreSQL, where the append takes its lock itself)."""
    if connection.dialect.name != "postgresql":
        _lock_chain(connection)


def _lock_chain(connection: sa.Connection) -> None:
    """SQLite: become the chain's only writer until this transaction ends (PostgreSQL: in audit_append)."""
    # pysqlite (legacy transaction control) opens no transaction before a SELECT and a deferred
    # one before an INSERT; issued first, this takes the write lock before the last event is read.
    # The driver commits or rolls it back when SQLAlchemy ends the transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _insert(connection: sa.Connection, row: dict[str, Any]) -> None:
    # SQLite is in-process: two statements cost no extra round trip
    connection.execute(sa.insert(audit_event), row)
    if row["subjects"]:
        connection.execute(
            sa.insert(audit_subject), [{"subject": subject, "seq": row["seq"]} for subject in row["subjects"]]
        )


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
