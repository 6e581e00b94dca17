"""Disclosure profiles on SQLite and PostgreSQL: an event names its lists by key, read back and verified as before.

The events here are the test_audit ones (4 lists of `Type.field`); each test reads them back the ways
the hub does (`access_log` behind `accessLog`, `search` behind the console and the CLI,
`events_in_window` behind the impact replay) and checks the chain with `verify`.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from alembic import command

from aidgraph.db import alembic_config, create_engine
from auth.audit import GENESIS_HASH, AuditLog, access_log, events_in_window, search, verify
from auth.audit.profiles import disclosure_key
from auth.tables import audit_disclosure, audit_event
from tests.auth.test_audit import NANAN, T0, attacker, event, stored_events
from tests.auth.test_audit_actor import COLUMNS_BEFORE_0007, written_before_0007
from tools.pgserver import ThrowawayPostgres

LISTS = {"revealed": ["Person.idNumber", "Person.name"], "masked": ["Person.phone"], "withheld": ["Medical.diagnosis"]}


def profiles(engine: sa.Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return [
            dict(row)
            for row in connection.execute(sa.select(audit_disclosure).order_by(audit_disclosure.c.key)).mappings()
        ]


def lists_of(entry: Any) -> dict[str, list[str]]:
    return {name: list(getattr(entry, name)) for name in LISTS}


def test_the_key_is_the_sha256_of_the_three_lists_as_canonical_json() -> None:
    # given three lists, when their key is made, then it is SHA-256 over their JSON with sorted keys, as
    # anyone checking the trail with other tools can compute it
    canonical = orjson.dumps({"masked": ["Person.phone"], "revealed": ["Person.name"], "withheld": []})
    assert disclosure_key(["Person.name"], ["Person.phone"], []) == hashlib.sha256(canonical).hexdigest()
    # and a field moved from one list to another gives another key
    assert disclosure_key(["Person.name"], [], ["Person.phone"]) != disclosure_key(
        ["Person.name"], ["Person.phone"], []
    )


def test_an_event_stores_its_key_and_reads_back_its_lists_everywhere(engine: sa.Engine) -> None:
    # given three reads disclosing the same fields, one disclosing others, and a refusal that discloses none
    log = AuditLog(engine)
    log.append_many([event(number) for number in range(3)])
    log.append(event(3, withheld=[]))
    log.append(event(4, revealed=[], masked=[], withheld=[], outcome="refused"))

    # when the stored rows are looked at
    rows = stored_events(engine)
    # then each read names its profile by key and keeps no list of its own; the refusal names none
    assert [row["disclosure_key"] for row in rows] == [
        *[disclosure_key(LISTS["revealed"], LISTS["masked"], LISTS["withheld"])] * 3,
        disclosure_key(LISTS["revealed"], LISTS["masked"], []),
        None,
    ]
    assert all(row[name] == [] for row in rows for name in LISTS)
    # and each distinct profile is stored once
    assert sorted(row["key"] for row in profiles(engine)) == sorted({row["disclosure_key"] for row in rows[:4]})

    # when the trail is read as accessLog, the audit search and the impact replay read it
    logged = access_log(engine, NANAN, first=10)
    found = search(engine, client_id="civil-affairs-nanan").entries
    replayed = list(events_in_window(engine, since=T0, until=T0.replace(year=2027)))
    # then every reader gets each event's lists as they were given, newest first (oldest first for the replay)
    expected = [LISTS] * 3 + [{**LISTS, "withheld": []}, {name: [] for name in LISTS}]
    assert [lists_of(entry) for entry in logged] == expected[::-1]
    assert [lists_of(entry) for entry in found] == expected[::-1]
    assert [lists_of(entry) for entry in replayed] == expected
    assert (found[0].revealed_count, found[1].withheld_count) == (0, 0)
    # and the chain verifies
    assert verify(engine).ok


def test_a_reader_resolves_the_lists_in_its_one_statement(engine: sa.Engine) -> None:
    # given a trail of 30 events naming 30 different profiles
    AuditLog(engine).append_many([event(number, revealed=[f"Person.name{number}"]) for number in range(30)])
    statements: list[str] = []

    def count(_connection: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    # when the access log and a search read them all
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        assert len(access_log(engine, NANAN, first=50)) == 30
        assert len(search(engine, first=50).entries) == 30
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)

    # then each reads the audit key and then the events with their profiles in one statement (a join)
    reading = [statement for statement in statements if "audit_event" in statement]
    assert len(reading) == 2 and all("LEFT OUTER JOIN audit_disclosure" in statement for statement in reading)


@pytest.mark.parametrize("edited", list(LISTS))
def test_a_profile_edited_behind_the_hubs_back_is_named_at_its_first_event(engine: sa.Engine, edited: str) -> None:
    # given two refusals, then three reads naming one profile
    log = AuditLog(engine)
    log.append_many([event(number, revealed=[], masked=[], withheld=[], outcome="refused") for number in range(2)])
    log.append_many([event(number) for number in range(2, 5)])
    [profile] = profiles(engine)

    # when one of the profile's lists is changed, its key left as it was
    with attacker(engine) as connection:
        changed = {edited: [*profile[edited], "Person.address"]}
        connection.execute(sa.update(audit_disclosure).where(audit_disclosure.c.key == profile["key"]).values(changed))

    # then the check names the first event naming that profile, the two before it intact
    report = verify(engine)
    assert (report.ok, report.first_bad_seq, report.events_checked) == (False, 3, 2)
    assert (
        report.problem
        == f"seq 3's disclosure profile {profile['key'][:12]}... was edited: its lists no longer match its key"
    )


def test_a_profile_deleted_behind_the_hubs_back_is_named(engine: sa.Engine) -> None:
    # given a read naming a profile
    AuditLog(engine).append(event(1))
    [profile] = profiles(engine)

    # when the profile is deleted, with the foreign key's check switched off (what only an administrator can)
    if engine.dialect.name == "sqlite":
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.exec_driver_sql("DELETE FROM audit_disclosure")
            connection.commit()
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")
    else:
        with engine.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE audit_disclosure DISABLE TRIGGER ALL")
            connection.exec_driver_sql("DELETE FROM audit_disclosure")
            connection.exec_driver_sql("ALTER TABLE audit_disclosure ENABLE TRIGGER ALL")

    # then the check names the event whose profile is gone
    report = verify(engine)
    assert (report.ok, report.first_bad_seq) == (False, 1)
    assert report.problem == f"seq 1 names disclosure profile {profile['key'][:12]}..., which is not stored (deleted)"


def test_an_event_cannot_name_a_profile_that_is_not_stored(engine: sa.Engine) -> None:
    # given a trail, when an event naming no stored profile is inserted, then the store refuses it
    AuditLog(engine).append(event(1))
    forged = {**stored_events(engine)[0], "seq": 2, "disclosure_key": "f" * 64}
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        connection.execute(sa.insert(audit_event), forged)


def test_events_written_inline_and_by_key_read_and_verify_side_by_side(engine: sa.Engine) -> None:
    # given events with their lists inline (as before migration 0016), then events naming profiles
    AuditLog(engine, disclosure_by_key=False).append_many([event(number) for number in range(2)])
    AuditLog(engine).append_many([event(number) for number in range(2, 4)])

    # then the first two hold their lists and no key, the next two a key and no lists
    rows = stored_events(engine)
    assert [row["disclosure_key"] is None for row in rows] == [True, True, False, False]
    assert [row["revealed"] for row in rows] == [LISTS["revealed"]] * 2 + [[]] * 2
    # and the readers see the same lists for all four, and the chain verifies
    assert [lists_of(entry) for entry in access_log(engine, NANAN, first=10)] == [LISTS] * 4
    assert verify(engine).ok


@pytest.mark.parametrize("rounds", [8])
def test_two_writers_storing_the_same_new_profile_both_succeed(store_url: str, rounds: int) -> None:
    # given two writers of their own (two hub workers: their own engines and memories of profiles)
    engines = [create_engine(store_url) for _ in range(2)]
    logs = [AuditLog(engine) for engine in engines]
    barrier = threading.Barrier(2)
    failures: list[BaseException] = []

    def write(log: AuditLog, writer: int) -> None:
        for number in range(rounds):
            barrier.wait()  # each round, both at once, with a profile neither has stored yet
            try:
                log.append_many([event(10 * number + writer, revealed=[f"Person.round{number}"])])
            except BaseException as error:  # noqa: BLE001 - collected, the test fails on it below
                failures.append(error)

    # when they append events naming the same new profile, round after round
    threads = [threading.Thread(target=write, args=(log, writer)) for writer, log in enumerate(logs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then every append succeeded, each profile is stored once, and the chain is whole
    assert failures == []
    assert len(stored_events(engines[0])) == 2 * rounds
    assert len(profiles(engines[0])) == rounds
    assert verify(engines[0]).ok
    for engine in engines:
        engine.dispose()


def _restorer(engine: sa.Engine, request: pytest.FixtureRequest) -> tuple[Callable[[], None], Callable[[], None]]:
    """`(back_up, restore)`: take a copy of the store, and put it back in its place later (a restore from
    backup while a hub kept running, its memory of profiles now wrong)."""
    name = engine.url.database
    assert name is not None
    if engine.dialect.name == "sqlite":
        path = Path(name)

        def back_up() -> None:
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            engine.dispose()
            shutil.copyfile(path, path.with_suffix(".backup"))

        def restore() -> None:
            engine.dispose()
            for suffix in ("-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(path.with_suffix(".backup"), path)

        return back_up, restore
    server: ThrowawayPostgres = request.getfixturevalue("postgres")

    def administer(*statements: str) -> None:
        engine.dispose()
        admin = create_engine(server.admin_url)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            for statement in statements:
                connection.exec_driver_sql(statement)
        admin.dispose()

    return (
        lambda: administer(f'CREATE DATABASE "{name}_backup" TEMPLATE "{name}"'),
        lambda: administer(f'DROP DATABASE "{name}"', f'CREATE DATABASE "{name}" TEMPLATE "{name}_backup"'),
    )


def test_a_profile_remembered_but_no_longer_stored_is_stored_again(
    engine: sa.Engine, request: pytest.FixtureRequest
) -> None:
    # given a trail holding one refusal, backed up
    log = AuditLog(engine)
    log.append(event(1, revealed=[], masked=[], withheld=[], outcome="refused"))
    back_up, restore = _restorer(engine, request)
    back_up()
    # and a read whose profile the writer then stored, and remembers
    log.append(event(2))
    assert len(profiles(engine)) == 1

    # when the store is restored from the backup (the profile gone), and the writer appends the same profile
    restore()
    assert profiles(engine) == []
    seq = log.append(event(3))

    # then the event is written, naming its profile, which is stored again; nothing names a missing profile
    assert seq == 2
    assert [row["key"] for row in profiles(engine)] == [stored_events(engine)[1]["disclosure_key"]]
    assert [lists_of(entry) for entry in access_log(engine, NANAN, first=10)] == [LISTS, {n: [] for n in LISTS}]
    assert verify(engine).ok


@pytest.fixture
def trail_from_before_0016(engine: sa.Engine) -> sa.Engine:
    """A store that held two events before migration 0016 (lists inline), migrated since, then written by the hub."""
    command.downgrade(alembic_config(engine), "0015")
    first = written_before_0007(1, GENESIS_HASH)
    second = written_before_0007(2, first["hash"])
    columns = (*COLUMNS_BEFORE_0007, "seq", "prev_hash", "hash")
    with engine.begin() as connection:
        connection.execute(sa.insert(audit_event), [{name: row[name] for name in columns} for row in (first, second)])
    command.upgrade(alembic_config(engine), "head")
    AuditLog(engine).append_many([event(3), event(4)])
    return engine


def test_events_written_before_the_migration_still_read_and_verify(trail_from_before_0016: sa.Engine) -> None:
    # given two events written before migration 0016 and two after it
    rows = stored_events(trail_from_before_0016)
    # then the old ones kept their lists inline and name no profile; the new ones name one
    assert [(row["revealed"], row["disclosure_key"] is None) for row in rows] == [
        (["Person.name"], True), (["Person.name"], True), ([], False), ([], False),
    ]  # fmt: skip
    # and the impact replay and the search read every event's lists, and the whole chain verifies
    replayed = events_in_window(trail_from_before_0016, since=T0.replace(month=1), until=T0.replace(year=2027))
    expected = [{"revealed": ["Person.name"], "masked": [], "withheld": []}] * 2 + [LISTS] * 2
    assert [lists_of(entry) for entry in replayed] == expected
    assert [lists_of(entry) for entry in search(trail_from_before_0016).entries] == expected[::-1]
    report = verify(trail_from_before_0016)
    assert (report.ok, report.events_checked) == (True, 4)


def test_the_downgrade_refuses_once_an_event_names_a_profile(trail_from_before_0016: sa.Engine) -> None:
    # when the store is taken back before migration 0016, then it is refused, and the trail is whole
    with pytest.raises(RuntimeError, match="name a disclosure profile"):
        command.downgrade(alembic_config(trail_from_before_0016), "0015")
    assert verify(trail_from_before_0016).ok
