"""`aidgraph ingest`, on SQLite and PostgreSQL: all or nothing, exit statuses, file-level faults named once."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from adapters import registry, store
from adapters.base import metadata
from aidgraph import cli
from tests.world import write_world

BAD_POVERTY = "hh,hzsfzh,rks,sbnd,tpnd,xzqh\nnot-a-household,nobody,x,y,z,w\n??,??,?,?,?,?\n"


@pytest.fixture
def world(store_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every department's export of the tiny world, and the command pointed at a fresh store."""
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", store_url)
    return write_world(tmp_path / "world")


def _store(engine: sa.Engine) -> dict[str, list[tuple[str, ...]]]:
    with engine.connect() as connection:
        return {
            name: sorted(tuple(map(str, row)) for row in connection.execute(sa.select(table)))
            for name, table in metadata.tables.items()
            if name != "alembic_version"
        }


def _persons(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(sa.select(sa.func.count()).select_from(registry.PERSONS.table)).scalar_one())


def _gbk(path: Path) -> None:
    path.write_bytes(path.read_text(encoding="utf-8").encode("gbk"))


def test_a_bad_file_in_the_last_department_leaves_the_store_unchanged(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a store holding an earlier import, and a new export whose last department's file has only bad rows
    assert cli.main(["ingest", "all", str(world)]) == 0
    before = _store(engine)
    (world / "registry" / "persons.csv").write_text("sfzh,xm,xb,csrq,hh,yhzgx,lxdh\n", encoding="utf-8")
    (world / "poverty" / "pkh.csv").write_text(BAD_POVERTY, encoding="utf-8")
    capsys.readouterr()
    # when every department is ingested
    status = cli.main(["ingest", "all", str(world)])
    # then the command fails naming the file, and nothing was committed: no person closed, no run, no rejection
    output = capsys.readouterr()
    assert status == 1
    assert "every row was rejected" in output.out and "pkh.csv" in output.out
    assert "nothing was imported" in output.err
    assert _store(engine) == before


def test_a_wrong_header_anywhere_refuses_the_whole_import(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an export whose last department's file lacks a column
    (world / "poverty" / "pkh.csv").write_text("hh,hzsfzh\n350583000001,x\n", encoding="utf-8")
    # when every department is ingested
    status = cli.main(["ingest", "all", str(world)])
    # then it exits 1 naming the missing column, and the first department was not imported either
    assert status == 1
    assert "header lacks columns rks" in capsys.readouterr().out
    assert _persons(engine) == 0


def test_a_missing_department_folder_is_named_and_nothing_is_imported(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an export without the housing department's folder
    for path in (world / "housing").iterdir():
        path.unlink()
    (world / "housing").rmdir()
    # when every department is ingested
    status = cli.main(["ingest", "all", str(world)])
    # then it exits 2 naming the folder, before anything is imported
    assert status == 2
    assert f"department folder {world / 'housing'}/ not found" in capsys.readouterr().err
    assert _persons(engine) == 0
    # and with --allow-missing the other departments are imported
    assert cli.main(["ingest", "all", str(world), "--allow-missing"]) == 0
    assert _persons(engine) == 10


def test_a_missing_file_fails_the_import_unless_allowed(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a registry export without its households file
    (world / "registry" / "households.csv").unlink()
    # when the registry is ingested
    status = cli.main(["ingest", "registry", str(world / "registry")])
    # then it exits 1 naming the file, and nothing is imported
    assert status == 1
    [line] = [line for line in capsys.readouterr().out.splitlines() if "households.csv" in line]
    assert line.split(maxsplit=1) == ["households.csv", "not present in the folder"]
    assert _persons(engine) == 0
    # and with --allow-missing the file present is imported (the missing one closes nothing)
    assert cli.main(["ingest", "registry", str(world / "registry"), "--allow-missing"]) == 0
    assert _persons(engine) == 10


def test_a_gbk_file_where_utf8_is_expected_is_named_once(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a registry export written in GBK, where the registry exports UTF-8
    _gbk(world / "registry" / "persons.csv")
    # when it is ingested
    status = cli.main(["ingest", "registry", str(world / "registry")])
    # then the file is named once as looking GBK-encoded, with no message per row, and nothing is imported
    output = capsys.readouterr()
    assert status == 1
    assert (output.out + output.err).count("this file looks GBK-encoded") == 1
    assert "bytes that are not valid" not in output.out + output.err
    with engine.connect() as connection:
        assert store.rejections(connection) == []
    assert _persons(engine) == 0


def test_a_utf8_file_where_gbk_is_expected_is_named_once(world: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # given a housing export (GBK) with a file written in UTF-8
    (world / "housing" / "wfgz.csv").write_text(
        "xmbh,sfzh,hh,gzlx,mj,bzje,zt,lxrq,bz\n"
        "GZ-0009,350583195003101110,350583000001,3,68.0,42000,3,2025-10-08,墙体加固\n"
        "GZ-0010,350583195003101110,350583000001,3,68.0,42000,3,2025-10-09,屋面翻修\n",
        encoding="utf-8",
    )
    # when it is ingested
    status = cli.main(["ingest", "housing", str(world / "housing")])
    # then the file is named as looking UTF-8-encoded
    assert status == 1
    assert capsys.readouterr().out.count("this file looks UTF-8-encoded") == 1


def test_an_unknown_column_is_a_warning_and_a_name_differing_by_case_is_found(
    engine: sa.Engine, world: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a registry export with an extra column in one file and another file's name in capitals
    households = world / "registry" / "households.csv"
    lines = households.read_text(encoding="utf-8").splitlines()
    households.write_text("\n".join([lines[0] + ",bz"] + [line + ",x" for line in lines[1:]]) + "\n", encoding="utf-8")
    (world / "registry" / "persons.csv").rename(world / "registry" / "PERSONS.CSV")
    # when it is ingested
    status = cli.main(["ingest", "registry", str(world / "registry")])
    # then it succeeds, warning of the column and of the name, and the persons are imported
    output = capsys.readouterr().out
    assert status == 0
    assert "warning: header has columns the spec does not know: bz" in output
    assert "warning: persons.csv found as PERSONS.CSV" in output
    assert _persons(engine) == 10
