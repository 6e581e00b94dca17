"""Ingest into the store, on SQLite and PostgreSQL: counts, rejected rows kept, idempotent re-import."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from adapters import registry, store
from adapters.base import metadata
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from tests.world import LARGE_MEMBERS, write_world

BAD_PERSONS = (
    "sfzh,xm,xb,csrq,hh,yhzgx,lxdh\n"
    "35050219900101123x,欧阳明,1,1990-01-01,350502000007,01,13805951234\n"
    "350502199001011230,王五,1,1990-01-01,350502000007,02,\n"  # wrong check character
    "350502900101123,欧阳明,1,1990-01-01,350502000007,01,\n"  # legacy form of line 2's id: a duplicate
    ",无名,1,1990-01-01,350502000007,03,\n"  # missing key
    "35050220150612108x,阿依古丽·买买提,2,2015-06-12,350502000007,07,\n"  # unknown relation code
)


def _snapshot(engine: sa.Engine) -> dict[str, list[tuple[object, ...]]]:
    with engine.connect() as connection:
        return {
            name: sorted(tuple(map(str, row)) for row in connection.execute(sa.select(table)))
            for name, table in metadata.tables.items()
            # every ingest is recorded as a run: the runs grow, the records must not change
            if name not in ("alembic_version", "ingest_run", "ingest_run_file")
        }


def test_rows_are_counted_and_bad_rows_kept_with_file_line_and_reason(engine: sa.Engine, tmp_path: Path) -> None:
    # given a persons file with one good row and four bad ones
    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "persons.csv").write_text(BAD_PERSONS, encoding="utf-8")
    # when it is ingested
    reports = {report.file: report for report in ingest_folder(engine, DEPARTMENTS["registry"], folder)}
    # then the counts add up and households.csv is reported missing, not fatal
    persons = reports["persons.csv"]
    assert (persons.read, persons.accepted, persons.rejected) == (5, 1, 4)
    assert reports["households.csv"].error == "not present in the folder"
    # and every rejected row is kept with its line and a reason naming the fault
    with engine.connect() as connection:
        kept = {row["line"]: row["reason"] for row in store.rejections(connection, department="registry")}
        accepted = connection.execute(sa.select(registry.PERSONS.table.c.id_number)).scalars().all()
    assert accepted == ["35050219900101123X"]
    assert set(kept) == {3, 4, 5, 6}
    assert "check character" in kept[3]
    assert "duplicate of line 2" in kept[4]
    assert "column sfzh: required value is empty" in kept[5]
    assert "column yhzgx: unknown code '07'" in kept[6]


def test_reingesting_the_same_files_changes_nothing(engine: sa.Engine, tmp_path: Path) -> None:
    # given every department's files ingested once
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    before = _snapshot(engine)
    # when the same files are ingested again
    changed = [
        report.changed
        for name, department in DEPARTMENTS.items()
        for report in ingest_folder(engine, department, world / name)
    ]
    # then no row was written and the store is exactly as it was
    assert changed and not any(changed)
    assert _snapshot(engine) == before
    assert sum(len(rows) for rows in before.values()) > 40


def test_a_changed_row_is_updated_in_place(engine: sa.Engine, tmp_path: Path) -> None:
    # given the registry ingested
    world = write_world(tmp_path / "world")
    ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    # when one person's phone changes in a new export
    persons = world / "registry" / "persons.csv"
    first_id = LARGE_MEMBERS[0][0]
    persons.write_text(persons.read_text().replace("13805950000", "13900000000"), encoding="utf-8")
    reports = ingest_folder(engine, DEPARTMENTS["registry"], world / "registry")
    # then exactly that row changed and no duplicate appeared
    assert [report.changed for report in reports] == [0, 1]
    table = registry.PERSONS.table
    with engine.connect() as connection:
        phones = connection.execute(sa.select(table.c.phone).where(table.c.id_number == first_id)).scalars().all()
        total = connection.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()
    assert phones == ["13900000000"]
    assert total == 10


def test_a_file_without_required_columns_is_refused_and_recorded(engine: sa.Engine, tmp_path: Path) -> None:
    # given a dibao export lacking the bzlx column
    folder = tmp_path / "civil_affairs"
    folder.mkdir()
    (folder / "dibao.csv").write_text("hh,sfzh,bzrs,yje,qsrq,zzrq,jtqjz\n350502000007,,3,2460.00,2025-03-01,,\n")
    # when the folder is ingested
    reports = {report.file: report for report in ingest_folder(engine, DEPARTMENTS["civil_affairs"], folder)}
    # then the file is refused with a reason naming the column, and nothing of the folder is imported
    assert "lacks columns bzlx" in (reports["dibao.csv"].error or "")
    with engine.connect() as connection:
        runs = connection.execute(sa.select(sa.func.count()).select_from(store.ingest_run)).scalar_one()
    assert runs == 0
