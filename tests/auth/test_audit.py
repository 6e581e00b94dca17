"""The audit trail on SQLite and PostgreSQL: the chain, its check naming the first broken link, access logs."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url

from aidgraph.db import create_engine
from auth.audit import (
    GENESIS_HASH,
    HASHED_COLUMNS,
    AccessLogEntry,
    AuditEvent,
    AuditLog,
    AuditUnavailable,
    AuditWriter,
    VerifyReport,
    access_log,
    format_report,
    verify,
)
from auth.audit.rows import select_stored_rows
from auth.masks import MaskError, pseudonym
from auth.tables import audit_event, audit_subject, hub_secret

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
NANAN = "35058319870102123X"  # valid, check character X
NANAN_LOWER = "35058319870102123x"
NANAN_LEGACY = "350583870102123"
OTHER = "350583198703151230"
CHILD = "350583201001010024"
NEVER_READ = "350524196507074515"


def event(number: int = 0, *, subjects: tuple[str, ...] = (NANAN,), **changes: Any) -> AuditEvent:
    values: dict[str, Any] = {
        "at": T0 + timedelta(seconds=number),
        "client_id": "civil-affairs-nanan",
        "outcome": "ok",
        "roles": ["civil-affairs"],
        "purpose": "assistance-review",
        "case_id": f"case-{number}",
        "operation": "HouseholdPicture",
        "document_hash": hashlib.sha256(b"query HouseholdPicture { ... }").hexdigest(),
        "subjects": list(subjects),
        "revealed": ["Person.idNumber", "Person.name"],
        "masked": ["Person.phone"],
        "withheld": ["Medical.diagnosis"],
        "detail": None,
        "policy_version": 3,
    }
    return AuditEvent(**{**values, **changes})


def append_events(engine: sa.Engine, count: int) -> list[int]:
    log = AuditLog(engine)
    return [log.append(event(number, subjects=(NANAN, OTHER) if number % 2 else (CHILD,))) for number in range(count)]


def stored_events(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(sa.select(audit_event).order_by(audit_event.c.seq)).mappings()]


def resolved_events(engine: sa.Engine) -> list[dict[str, Any]]:
    """The stored rows with each event's lists read through its disclosure profile, as readers get them."""
    with engine.connect() as connection:
        rows = connection.execute(select_stored_rows().order_by(audit_event.c.seq)).mappings()
        return [dict(row) for row in rows]


def stored_subjects(engine: sa.Engine) -> list[tuple[int, str]]:
    with engine.connect() as connection:
        rows = connection.execute(sa.select(audit_subject.c.seq, audit_subject.c.subject))
        return sorted((row.seq, row.subject) for row in rows)


def audit_key(engine: sa.Engine) -> bytes:
    with engine.connect() as connection:
        value = connection.execute(sa.select(hub_secret.c.value).where(hub_secret.c.name == "audit-key")).scalar_one()
    return bytes.fromhex(value)


TRAIL_TABLES = ("audit_event", "audit_subject", "audit_disclosure")


@contextmanager
def attacker(engine: sa.Engine) -> Iterator[sa.Connection]:
    """A connection that writes the trail behind the hub's back, as a database administrator could: on
    PostgreSQL it disables the append-only triggers for its transaction (the tables' owner or a superuser
    only; replica mode no longer skips them, see test_audit_postgres.py)."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            for table in TRAIL_TABLES:
                connection.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        yield connection
        if engine.dialect.name == "postgresql":
            for table in TRAIL_TABLES:
                for trigger in (f"{table}_append_only", f"{table}_no_truncate"):
                    connection.exec_driver_sql(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {trigger}")


# --- appending ---


def test_appended_events_get_consecutive_seqs_and_verify(engine: sa.Engine) -> None:
    # given an empty trail, when ten events are appended
    seqs = append_events(engine, 10)

    # then they are numbered 1..10
    assert seqs == list(range(1, 11))
    # and the chain verifies, also when read in batches smaller than the trail
    for batch_size in (1000, 3):
        report = verify(engine, batch_size=batch_size)
        assert report.ok, report
        assert report.events_checked == 10
        assert report.first_bad_seq is None and report.problem is None
        assert report.last_seq == 10
        assert report.last_hash == stored_events(engine)[-1]["hash"]


def test_empty_trail_verifies(engine: sa.Engine) -> None:
    # given a store without events, when it is verified
    report = verify(engine)
    # then it is intact, with no head
    assert report == VerifyReport(ok=True, events_checked=0)
    assert format_report(report) == "audit trail ok: no events yet"


def test_each_event_links_to_the_one_before_by_a_hash_over_every_column(engine: sa.Engine) -> None:
    # given appended events, the last one naming the person who acted
    append_events(engine, 4)
    AuditLog(engine).append(event(4, actor="admin-wang"))

    # when the stored rows are read
    rows = stored_events(engine)

    # then the first links to 64 zeros and each later one to its predecessor's hash
    assert rows[0]["prev_hash"] == GENESIS_HASH == "0" * 64
    assert [row["prev_hash"] for row in rows[1:]] == [row["hash"] for row in rows[:-1]]
    # and each hash is SHA-256 of "seq:prev_hash:digest", the digest SHA-256 of all other columns as
    # sorted-key JSON with the time in UTC ISO form (on PostgreSQL the server computes the link); `actor`,
    # added after events were written, only when it is set
    assert [row["actor"] for row in rows] == [None] * 4 + ["admin-wang"]
    for row in rows:
        at = row["at"].replace(tzinfo=UTC) if row["at"].tzinfo is None else row["at"].astimezone(UTC)
        payload = {
            str(name): value
            for name, value in row.items()
            if name not in ("hash", "seq", "prev_hash") and not (name == "actor" and value is None)
        }
        payload["at"] = at.isoformat(timespec="microseconds")
        digest = hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()
        link = f"{row['seq']}:{row['prev_hash']}:{digest}"
        assert row["hash"] == hashlib.sha256(link.encode()).hexdigest()
    # and no two hashes are equal although the events differ only in time and case
    assert len({row["hash"] for row in rows}) == 5


def test_the_hash_covers_every_stored_column_but_itself() -> None:
    # given the audit_event table, then the hashed columns are all of its columns but `hash`
    assert list(HASHED_COLUMNS) == [column.name for column in audit_event.columns if column.name != "hash"]


def test_subjects_are_stored_only_as_pseudonyms_under_the_hub_audit_key(engine: sa.Engine) -> None:
    # given an event returning two people, one of them twice and in another spelling
    seq = AuditLog(engine).append(event(subjects=(NANAN, OTHER, NANAN_LOWER)))

    # when the stored event and subject rows are read (the lists through the event's profile)
    [row] = resolved_events(engine)
    key = audit_key(engine)

    # then each person is there once, as the pseudonym of their id under the hub's audit key
    expected = sorted({pseudonym(NANAN, key=key), pseudonym(OTHER, key=key)})
    assert row["subjects"] == expected
    assert stored_subjects(engine) == [(seq, subject) for subject in expected]
    # and no resident id is stored anywhere in the row
    text = orjson.dumps({str(name): str(value) for name, value in row.items()}).decode()
    assert NANAN not in text and OTHER not in text and NANAN_LEGACY not in text
    # and the other fields are kept as given, lists sorted
    assert row["roles"] == ["civil-affairs"]
    assert row["revealed"] == ["Person.idNumber", "Person.name"]
    assert (row["masked"], row["withheld"]) == (["Person.phone"], ["Medical.diagnosis"])
    assert (row["purpose"], row["case_id"], row["operation"]) == ("assistance-review", "case-0", "HouseholdPicture")
    assert (row["outcome"], row["policy_version"], row["client_id"]) == ("ok", 3, "civil-affairs-nanan")


def test_invalid_subject_ids_are_still_recorded_without_the_id(engine: sa.Engine) -> None:
    # given an event that returned a record whose id is not a valid resident id
    AuditLog(engine).append(event(subjects=("35058319870102123Y",)))

    # when the stored subjects are read
    [(_, subject)] = stored_subjects(engine)

    # then one keyed pseudonym stands for it, marked as not from a valid id, and the chain verifies
    assert subject.startswith("x_") and "350583" not in subject
    assert verify(engine).ok


def test_the_audit_key_is_made_once_and_shared_by_every_log(engine: sa.Engine) -> None:
    # given two logs on one store (two hub processes)
    first, second = AuditLog(engine), AuditLog(engine)

    # when each appends an event about the same person
    first.append(event(1))
    second.append(event(2))

    # then there is one audit key, and both events name the person by the same pseudonym
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(hub_secret)).scalar_one() == 1
    assert [row["subjects"] for row in stored_events(engine)] == [[pseudonym(NANAN, key=audit_key(engine))]] * 2


def test_event_times_are_kept_as_instants_whatever_their_zone(engine: sa.Engine) -> None:
    # given an event stamped in China Standard Time, with microseconds
    beijing = timezone(timedelta(hours=8))
    at = datetime(2026, 11, 24, 17, 30, 5, 123456, tzinfo=beijing)
    AuditLog(engine).append(event(at=at))

    # when it is read back through the access log and verified
    [entry] = access_log(engine, NANAN, first=10)

    # then it is the same instant, in UTC, and the chain verifies
    assert entry.at == at and entry.at.tzinfo == UTC
    assert verify(engine).ok


def test_naive_times_missing_outcomes_and_bare_subject_strings_are_refused(engine: sa.Engine) -> None:
    log = AuditLog(engine)
    # given a time without a zone, when appended, then refused
    with pytest.raises(ValueError, match="timezone-aware"):
        log.append(event(at=datetime(2026, 11, 24, 9, 0)))
    # given no outcome, when appended, then refused
    with pytest.raises(ValueError, match="outcome"):
        log.append(event(outcome=""))
    # given one id as a bare string rather than a list of ids, when appended, then refused
    with pytest.raises(ValueError, match="subjects"):
        log.append(dataclasses.replace(event(), subjects=NANAN))
    # and nothing was written
    assert stored_events(engine) == []


def test_over_long_client_text_is_cut_not_refused(engine: sa.Engine) -> None:
    # given a refused request whose client-chosen purpose and operation name are far too long
    seq = AuditLog(engine).append(
        event(purpose="p" * 1000, operation="Q" * 1000, outcome="refused", detail="purpose not allowed", subjects=())
    )

    # when the stored event is read
    [row] = stored_events(engine)

    # then it was written, cut to the columns with a mark, and the chain verifies
    assert seq == 1
    assert row["purpose"] == "p" * 59 + "…" and row["operation"] == "Q" * 199 + "…"
    assert verify(engine).ok


def test_concurrent_appends_form_one_linear_chain(engine: sa.Engine) -> None:
    # given 8 threads, each with its own log as separate hub workers would have, racing to make the key
    threads, per_thread = 8, 25
    start = threading.Barrier(threads)
    seqs: list[list[int]] = [[] for _ in range(threads)]
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        log = AuditLog(engine)
        try:
            start.wait()
            for number in range(per_thread):
                seqs[worker].append(log.append(event(number, client_id=f"worker-{worker}")))
        except BaseException as error:  # reported below: a thread's exception would otherwise vanish
            errors.append(error)

    workers = [threading.Thread(target=work, args=(worker,)) for worker in range(threads)]

    # when they each append 25 events at once
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()

    # then every append succeeded, and the seqs are exactly 1..200, each worker's increasing
    assert errors == []
    assert sorted(seq for mine in seqs for seq in mine) == list(range(1, threads * per_thread + 1))
    assert all(mine == sorted(mine) for mine in seqs)
    # and the chain is one line that verifies
    report = verify(engine)
    assert report.ok, report
    assert report.events_checked == report.last_seq == 200
    # and one key was made
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(hub_secret)).scalar_one() == 1


# --- who read this person's data ---


def test_access_log_lists_the_events_that_returned_a_person_newest_first(engine: sa.Engine) -> None:
    # given events about NANAN (1, 3, 4), OTHER (2, 4), nobody (5, refused)
    log = AuditLog(engine)
    log.append(event(1, subjects=(NANAN,)))
    log.append(event(2, subjects=(OTHER,), client_id="housing-nanan", roles=["housing"]))
    log.append(event(3, subjects=(NANAN_LEGACY,)))
    log.append(event(4, subjects=(NANAN, OTHER)))
    log.append(event(5, subjects=(), outcome="refused", detail="purpose not allowed"))

    # when NANAN's access log is read by the 18-digit id, then events 4, 3, 1 come back
    assert [entry.seq for entry in access_log(engine, NANAN, first=10)] == [4, 3, 1]
    # and other spellings of the same id find the same
    assert [entry.seq for entry in access_log(engine, NANAN_LOWER, first=10)] == [4, 3, 1]
    # and pages follow one another
    assert [entry.seq for entry in access_log(engine, NANAN, first=2)] == [4, 3]
    assert [entry.seq for entry in access_log(engine, NANAN, first=2, after_seq=3)] == [1]
    assert access_log(engine, NANAN, first=0) == []
    # and OTHER's log has only theirs, someone never read has none
    assert [entry.seq for entry in access_log(engine, OTHER, first=10)] == [4, 2]
    assert access_log(engine, NEVER_READ, first=10) == []
    # and each entry says who, when, why and what they saw
    assert access_log(engine, OTHER, first=10)[1] == AccessLogEntry(
        seq=2,
        at=T0 + timedelta(seconds=2),
        client_id="housing-nanan",
        roles=("housing",),
        purpose="assistance-review",
        case_id="case-2",
        operation="HouseholdPicture",
        outcome="ok",
        revealed=("Person.idNumber", "Person.name"),
        masked=("Person.phone",),
        withheld=("Medical.diagnosis",),
        policy_version=3,  # the version that answered it
    )


def test_access_log_before_any_event_is_empty_and_makes_no_key(engine: sa.Engine) -> None:
    # given a store that never wrote an event, when a person's access log is read
    entries = access_log(engine, NANAN, first=10)
    # then it is empty, and reading made no audit key
    assert entries == []
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(hub_secret)).scalar_one() == 0


def test_access_log_refuses_an_invalid_id(engine: sa.Engine) -> None:
    # given a trail, when the access log of a malformed id is asked for, then it is refused
    append_events(engine, 1)
    with pytest.raises(MaskError):
        access_log(engine, "35058319870102123Y", first=10)
    with pytest.raises(ValueError, match="negative"):
        access_log(engine, NANAN, first=-1)


# --- failing closed ---


def test_append_raises_audit_unavailable_when_the_table_is_gone(engine: sa.Engine) -> None:
    # given a log that has written before (so its key is cached), and the event table then dropped
    log = AuditLog(engine)
    log.append(event(1))
    with engine.begin() as connection:
        connection.execute(sa.text("DROP TABLE audit_event"))

    # when it appends, then it raises AuditUnavailable
    with pytest.raises(AuditUnavailable, match="could not be written"):
        log.append(event(2))


def test_append_raises_audit_unavailable_when_the_store_is_unreachable(store_url: str, tmp_path: Path) -> None:
    # given an engine whose store cannot be reached: a closed port, or a file in a missing folder
    url = make_url(store_url)
    if url.get_backend_name() == "postgresql":
        engine = create_engine(url.set(port=1).render_as_string(hide_password=False))
    else:
        engine = create_engine(f"sqlite:///{tmp_path / 'missing' / 'store.db'}")

    # when an event is appended, then it raises AuditUnavailable (the request must fail)
    try:
        with pytest.raises(AuditUnavailable):
            AuditLog(engine).append(event(1))
    finally:
        engine.dispose()


# --- cost ---


@contextmanager
def counting_statements(engine: sa.Engine) -> Iterator[list[int]]:
    """Statements the database executes: SQLAlchemy's cursor events on SQLite; pg_stat_statements on
    PostgreSQL, where BEGIN and COMMIT count too."""
    counted = [0]
    if engine.dialect.name == "sqlite":

        def count(*_args: object) -> None:
            counted[0] += 1

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            yield counted
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        connection.execute(sa.text("SELECT pg_stat_statements_reset()"))
        yield counted
        counted[0] = connection.execute(
            sa.text(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat%'"
            )
        ).scalar_one()


def test_an_append_costs_a_fixed_few_statements(engine: sa.Engine) -> None:
    # given a log that has made its key
    log = AuditLog(engine)
    log.append(event(0))

    # when events with no subject, one, and fifty are appended
    many = tuple(pseudonym(NANAN, key=str(number).encode()) for number in range(50))  # any 50 distinct texts
    counts = []
    for subjects in ((), (NANAN,), many):
        with counting_statements(engine) as counted:
            log.append(event(1, subjects=subjects))
        counts.append(counted[0])

    # then each costs the same few statements: on SQLite BEGIN IMMEDIATE, the last event, the event, its
    # subjects (none: no statement); on PostgreSQL one call of audit_append (one round trip), counted in the
    # server with what it runs: the call, the lock, the test for profiles to store, the last event, the
    # batch's elements, the event, its subjects. The disclosure profile, known since the first append, costs
    # no statement on either
    if engine.dialect.name == "sqlite":
        assert counts == [3, 4, 4]
    else:
        assert counts == [7, 7, 7]
    assert verify(engine).ok


def test_the_writer_groups_concurrent_requests_into_one_linear_chain(engine: sa.Engine) -> None:
    # given a hub's writer, and a log that counts the batches it is handed
    log = AuditLog(engine)
    batches: list[int] = []
    append_many = log.append_many

    def counting(events: list[AuditEvent]) -> list[int]:
        batches.append(len(events))
        return append_many(events)

    log.append_many = counting  # type: ignore[method-assign]
    writer = AuditWriter(log)

    # when 60 requests append at once
    async def requests() -> list[int]:
        return await asyncio.gather(*(writer.append(event(number)) for number in range(60)))

    seqs = asyncio.run(requests())

    # then each got its own seq, the chain is whole, and they were written in fewer batches than events
    assert sorted(seqs) == list(range(1, 61))
    assert verify(engine).ok
    assert sum(batches) == 60 and len(batches) < 60
    stored = {row["seq"]: row["case_id"] for row in stored_events(engine)}
    assert [stored[seq] for seq in seqs] == [event(number).case_id for number in range(60)]


def test_when_a_batch_cannot_be_written_every_request_in_it_fails(engine: sa.Engine) -> None:
    # given a writer whose store lost its audit table
    writer = AuditWriter(AuditLog(engine))
    with engine.begin() as connection:
        connection.execute(sa.text("ALTER TABLE audit_event RENAME TO audit_event_gone"))

    async def requests() -> list[int | BaseException]:
        return await asyncio.gather(*(writer.append(event(number)) for number in range(5)), return_exceptions=True)

    # when requests append, then each of them is refused
    outcomes = asyncio.run(requests())
    assert all(isinstance(outcome, AuditUnavailable) for outcome in outcomes)


def test_a_malformed_event_fails_alone_before_joining_a_batch(engine: sa.Engine) -> None:
    writer = AuditWriter(AuditLog(engine))

    async def requests() -> list[int | BaseException]:
        naive = dataclasses.replace(event(1), at=datetime(2026, 1, 1))
        return await asyncio.gather(writer.append(naive), writer.append(event(2)), return_exceptions=True)

    bad, good = asyncio.run(requests())
    assert isinstance(bad, ValueError)
    assert good == 1
