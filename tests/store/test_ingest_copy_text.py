"""Values holding the characters COPY's text format escapes arrive as they were written."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from adapters import registry
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder

PERSONS = (
    "sfzh,xm,xb,csrq,hh,yhzgx,lxdh\n"
    '35050219900101123x,"欧阳\\明",1,1990-01-01,350502000007,01,\n'
    '35050220150612108X,"王\t五",2,2015-06-12,350502000007,03,13805951234\n'
    '350502198001011235,"李\n四\r",1,1980-01-01,350502000007,02,\n'
    "350502198501011231,\\N,1,1985-01-01,350502000007,02,\n"
)


def test_backslash_tab_and_line_breaks_in_a_value_are_stored_as_read(engine: sa.Engine, tmp_path: Path) -> None:
    # given names holding a backslash, a tab, line breaks, and the text \N (not a missing value)
    folder = tmp_path / "registry"
    folder.mkdir()
    (folder / "persons.csv").write_bytes(PERSONS.encode())
    # when the file is ingested
    reports = {report.file: report for report in ingest_folder(engine, DEPARTMENTS["registry"], folder)}
    # then every row is accepted and each value, and each empty one, is stored exactly as it was read
    assert reports["persons.csv"].accepted == 4
    table = registry.PERSONS.table
    with engine.connect() as connection:
        stored = dict(connection.execute(sa.select(table.c.id_number, table.c.name)).all())
        phones = dict(connection.execute(sa.select(table.c.id_number, table.c.phone)).all())
    assert stored == {
        "35050219900101123X": "欧阳\\明",
        "35050220150612108X": "王\t五",
        "350502198001011235": "李\n四",
        "350502198501011231": "\\N",
    }
    assert phones["35050219900101123X"] is None
    assert phones["35050220150612108X"] == "13805951234"
