"""Ingest as dated snapshots, on SQLite and PostgreSQL: runs recorded, records closed into history, asOf."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters import registry, store
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from adapters.store import LoadRequest, StoreSource
from resolvers.students.eligibility import count_eligible
from tests.store.test_students import EVERYWHERE, TERM, World
from tests.world import LARGE, LARGE_MEMBERS, write_world

MONDAY = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
FRIDAY = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
LEAVER = LARGE_MEMBERS[2][0]
PERSONS = registry.PERSONS


def _drop_line(path: Path, containing: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if containing not in line]
    assert len(kept) == len(lines) - 1
    path.write_text("".join(kept), encoding="utf-8")


def _current(engine: sa.Engine, id_number: str) -> list[sa.RowMapping]:
    with engine.connect() as connection:
        query = sa.select(PERSONS.table).where(PERSONS.table.c.id_number == id_number)
        return list(connection.execute(query).mappings())


def _history(engine: sa.Engine, id_number: str) -> list[sa.RowMapping]:
    with engine.connect() as connection:
        query = sa.select(PERSONS.history).where(PERSONS.history.c.id_number == id_number)
        return list(connection.execute(query).mappings())


def _utc(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def _reports(engine: sa.Engine, folder: Path, when: dt.datetime, *, incremental: bool = False) -> dict[str, object]:
    reports = ingest_folder(engine, DEPARTMENTS["registry"], folder, as_of=when, incremental=incremental)
    return {report.file: report for report in reports}


def test_a_newer_snapshot_closes_a_record_it_lacks_and_keeps_it_in_history(engine: sa.Engine, tmp_path: Path) -> None:
    # given the registry ingested as of Monday
    world = write_world(tmp_path / "world")
    _reports(engine, world / "registry", MONDAY)
    # when Friday's export lacks one person (moved away)
    _drop_line(world / "registry" / "persons.csv", LEAVER)
    reports = _reports(engine, world / "registry", FRIDAY)
    # then that person is closed, no longer current, and kept in history with the dates of its validity
    persons = reports["persons.csv"]
    assert (persons.changed, persons.closed) == (0, 1)  # type: ignore[attr-defined]
    assert _current(engine, LEAVER) == []
    [closed] = _history(engine, LEAVER)
    assert (_utc(closed["valid_from"]), _utc(closed["valid_to"]), _utc(closed["as_of"])) == (MONDAY, FRIDAY, MONDAY)
    # and the store's batch reader no longer finds them, while their household's other members are found
    with engine.connect() as connection:
        [found] = StoreSource(lambda: connection).fetch_now([LoadRequest(PERSONS, "household_number", [LARGE])])
    members = {record["id_number"] for record in found[LARGE]}
    assert LEAVER not in members and len(members) == len(LARGE_MEMBERS) - 1


def test_as_of_is_the_exports_not_the_imports(engine: sa.Engine, tmp_path: Path) -> None:
    # given the registry ingested as of Monday
    world = write_world(tmp_path / "world")
    _reports(engine, world / "registry", MONDAY)
    person = LARGE_MEMBERS[0][0]
    # when Friday's export carries the same person unchanged, and another with a new phone number
    persons = world / "registry" / "persons.csv"
    persons.write_text(persons.read_text().replace("13805950000", "13900000000"), encoding="utf-8")
    _reports(engine, world / "registry", FRIDAY)
    # then both records are as of Friday, the unchanged one still valid since Monday
    [unchanged] = [row for row in _current(engine, LARGE_MEMBERS[1][0])]
    assert (_utc(unchanged["as_of"]), _utc(unchanged["valid_from"])) == (FRIDAY, MONDAY)
    [changed] = _current(engine, person)
    assert (_utc(changed["as_of"]), _utc(changed["valid_from"]), changed["phone"]) == (FRIDAY, FRIDAY, "13900000000")
    # and the version it replaced is in history, valid from Monday to Friday
    [before] = _history(engine, person)
    assert (before["phone"], _utc(before["valid_from"]), _utc(before["valid_to"])) == ("13805950000", MONDAY, FRIDAY)


def test_without_as_of_a_record_is_as_of_its_files_modification_time(engine: sa.Engine, tmp_path: Path) -> None:
    # given an export whose files were written on Monday
    world = write_world(tmp_path / "world")
    for path in (world / "registry").iterdir():
        os.utime(path, (MONDAY.timestamp(), MONDAY.timestamp()))
    # when it is ingested (today) without --as-of
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    # then its records are as of Monday
    [record] = _current(engine, LEAVER)
    assert _utc(record["as_of"]) == MONDAY


def test_an_incremental_export_closes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    # given the registry ingested as of Monday
    world = write_world(tmp_path / "world")
    _reports(engine, world / "registry", MONDAY)
    # when Friday's export, carrying only changes, lacks a person
    _drop_line(world / "registry" / "persons.csv", LEAVER)
    reports = _reports(engine, world / "registry", FRIDAY, incremental=True)
    # then nobody is closed and the person it lacks stays current, as of Monday
    assert reports["persons.csv"].closed == 0  # type: ignore[attr-defined]
    [record] = _current(engine, LEAVER)
    assert _utc(record["as_of"]) == MONDAY
    assert _history(engine, LEAVER) == []


def test_every_ingest_is_a_recorded_run_with_its_files_digests_and_counts(engine: sa.Engine, tmp_path: Path) -> None:
    # given two registry exports, the second lacking one person
    world = write_world(tmp_path / "world")
    _reports(engine, world / "registry", MONDAY)
    persons = world / "registry" / "persons.csv"
    _drop_line(persons, LEAVER)
    # when the second is ingested
    _reports(engine, world / "registry", FRIDAY)
    # then two runs are recorded, the latest as of Friday with each file's SHA-256 and counts
    with engine.connect() as connection:
        runs = connection.execute(sa.select(store.ingest_run).order_by(store.ingest_run.c.id)).mappings().all()
        files = connection.execute(
            sa.select(store.ingest_run_file).where(store.ingest_run_file.c.run_id == runs[-1]["id"])
        ).mappings()
        by_file = {row["file"]: row for row in files}
    assert [(run["department"], _utc(run["as_of"])) for run in runs] == [("registry", MONDAY), ("registry", FRIDAY)]
    assert runs[-1]["finished_at"] is not None and not runs[-1]["incremental"]
    row = by_file["persons.csv"]
    assert row["sha256"] == hashlib.sha256(persons.read_bytes()).hexdigest()
    read = len(LARGE_MEMBERS) + 1  # the large household less the leaver, and the small one's two
    assert (row["rows_read"], row["rows_accepted"], row["rows_rejected"]) == (read, read, 0)
    assert (row["rows_changed"], row["rows_closed"]) == (0, 1)


@pytest.mark.parametrize("incremental", [False, True], ids=["full", "incremental"])
def test_an_export_older_than_the_one_ingested_is_refused(engine: sa.Engine, tmp_path: Path, incremental: bool) -> None:
    # given the registry ingested as of Friday
    world = write_world(tmp_path / "world")
    _reports(engine, world / "registry", FRIDAY)
    # when Monday's export, lacking a person and with an older phone number, comes in late
    persons = world / "registry" / "persons.csv"
    _drop_line(persons, LEAVER)
    persons.write_text(persons.read_text().replace("13805950000", "13700000000"), encoding="utf-8")
    reports = ingest_folder(engine, DEPARTMENTS["registry"], world / "registry", as_of=MONDAY, incremental=incremental)
    # then it is refused: nobody closed on stale news, no newer value undone
    assert all(report.closed == report.changed == 0 for report in reports)
    assert len(_current(engine, LEAVER)) == 1
    [first] = _current(engine, LARGE_MEMBERS[0][0])
    assert first["phone"] == "13805950000"


def test_a_withdrawn_student_and_an_ended_award_stop_counting(engine: sa.Engine, tmp_path: Path) -> None:
    # given two dibao households with an enrolled student each, ingested as of Monday
    world = World()
    withdrawn_home, ended_home = world.household(), world.household()
    world.dibao(withdrawn_home)
    world.dibao(ended_home)
    withdrawn, _ = world.student(withdrawn_home), world.student(ended_home)
    world.ingest(engine, tmp_path / "monday")
    with engine.connect() as connection:
        before = count_eligible(connection, term=TERM, regions=EVERYWHERE)
    # when Friday's exports lack one student's enrolment and the other household's dibao award
    world.rows["education/xsxj.csv"] = [row for row in world.rows["education/xsxj.csv"] if withdrawn not in row]
    world.rows["civil_affairs/dibao.csv"] = [
        row for row in world.rows["civil_affairs/dibao.csv"] if not row.startswith(ended_home)
    ]
    world.ingest(engine, tmp_path / "friday")
    # then neither student is eligible any more
    with engine.connect() as connection:
        after = count_eligible(connection, term=TERM, regions=EVERYWHERE)
    assert (before, after) == (2, 0)
