"""A department table as it stood on a day (adapters.as_of), on SQLite and PostgreSQL, from two dated exports."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import sqlalchemy as sa

from adapters import registry
from adapters.as_of import current_on
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from tests.world import LARGE_MEMBERS, write_world

MONDAY = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
FRIDAY = dt.datetime(2026, 12, 4, tzinfo=dt.UTC)
LATER = dt.date(2027, 1, 1)
LEAVER = LARGE_MEMBERS[2][0]
CHANGED = LARGE_MEMBERS[0][0]
PERSONS = registry.PERSONS


def _phones(engine: sa.Engine, day: dt.date, *, today: dt.date = LATER) -> dict[str, str | None]:
    table = current_on(PERSONS, day, today=today)
    with engine.connect() as connection:
        return {row.id_number: row.phone for row in connection.execute(sa.select(table.c.id_number, table.c.phone))}


def _two_exports(engine: sa.Engine, tmp_path: Path) -> None:
    world = write_world(tmp_path / "world")
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry", as_of=MONDAY)
    persons = world / "registry" / "persons.csv"
    lines = persons.read_text(encoding="utf-8").splitlines(keepends=True)
    text = "".join(line for line in lines if LEAVER not in line).replace("13805950000", "13900000000")
    persons.write_text(text, encoding="utf-8")
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry", as_of=FRIDAY)


def test_a_day_between_two_exports_sees_the_first_ones_versions(engine: sa.Engine, tmp_path: Path) -> None:
    # given Monday's export, and Friday's, which lacks one person and changed another's phone
    _two_exports(engine, tmp_path)
    # when the persons are read as of Wednesday
    wednesday = _phones(engine, dt.date(2026, 12, 2))
    # then the closed person is there, and the changed one with Monday's phone, each once
    assert LEAVER in wednesday
    assert wednesday[CHANGED] == "13805950000"
    assert len(wednesday) == 10


def test_the_day_of_the_newer_export_sees_its_versions(engine: sa.Engine, tmp_path: Path) -> None:
    # given the two exports
    _two_exports(engine, tmp_path)
    # when the persons are read as of Friday, through the history (today is later)
    friday = _phones(engine, FRIDAY.date())
    # then the closed person is gone and the changed phone is Friday's
    assert LEAVER not in friday
    assert friday[CHANGED] == "13900000000"
    assert len(friday) == 9


def test_a_day_before_the_first_export_sees_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    # given the two exports
    _two_exports(engine, tmp_path)
    # when the persons are read as of the Sunday before Monday's export
    # then none are found
    assert _phones(engine, dt.date(2026, 11, 29)) == {}


def test_today_or_later_reads_the_current_table_alone() -> None:
    # given today
    today = dt.date(2026, 12, 4)
    # when asked for today and for a later day
    # then the answer is the current table itself: no union to pay for; an earlier day is a subquery
    assert current_on(PERSONS, today, today=today) is PERSONS.table
    assert current_on(PERSONS, dt.date(2027, 1, 1), today=today) is PERSONS.table
    assert current_on(PERSONS, dt.date(2026, 12, 3), today=today) is not PERSONS.table
