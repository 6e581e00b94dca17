"""The students export as CSV: a UTF-8 BOM once at the start, and no cell a spreadsheet would run.

First the encoder on rows made here (any chunking, lists, Chinese text); then the HTTP export and
the command, on a world whose department data carries formulas, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph import cli
from aidgraph.app import create_app
from aidgraph.settings import Settings
from resolvers.students import export as students_export
from resolvers.students.export import COLUMNS, encode
from tests.access import apply_demo_policy
from tests.conftest import BACKENDS, _fresh_store
from tests.test_access import Hub
from tests.world import LARGE_MEMBERS, STUDENT, write_world

TERM = "2026-2027-1"
OLDER = LARGE_MEMBERS[4][0]
BOM = codecs.BOM_UTF8


def _row(number: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "id_number": f"35058320100101{number:04d}",
        "name": "欧阳明",
        "stage": "PRIMARY",
        "school_code": "3505830012",
        "school_name": "南安市实验小学",
        "grade": 2,
        "reasons": ["DIBAO", "LOW_INCOME"],
        "departments": ["civil_affairs", "civil_affairs"],
        "source_records": ["350583000001", "350583000001|2026-05-20"],
        "aid_granted": False,
    }
    return {**row, **values}


def _read(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


# --- the encoder --------------------------------------------------------------------------------------


@pytest.mark.parametrize("chunk", [1, 200, 64 * 1024])
@pytest.mark.parametrize("count", [0, 1, 50])
def test_the_bom_is_there_exactly_once_at_the_start_however_the_stream_is_chunked(
    monkeypatch: pytest.MonkeyPatch, chunk: int, count: int
) -> None:
    # given rows sent in chunks of every size, down to one chunk per row
    monkeypatch.setattr(students_export, "CHUNK", chunk)
    # when they are encoded as CSV
    chunks = list(encode(iter([_row(number) for number in range(count)]), "csv"))
    # then the first chunk starts with the BOM and no chunk holds another one
    assert chunks[0].startswith(BOM)
    assert b"".join(chunks).count(BOM) == 1
    assert len(_read(b"".join(chunks))) == count
    if count == 50 and chunk < 64 * 1024:
        assert len(chunks) > 2  # the small chunk sizes did split the stream


def test_ndjson_has_no_bom() -> None:
    assert not b"".join(encode(iter([_row(1)]), "ndjson")).startswith(BOM)


def test_chinese_text_round_trips_through_the_csv_reader() -> None:
    # given rows with compound surnames, a masked name and a school's name
    rows = [_row(1, name="欧阳明"), _row(2, name="张*", school_name="南安第一中学（高中部）")]
    # when encoded and read back as a spreadsheet-minded reader would, with utf-8-sig
    found = _read(b"".join(encode(iter(rows), "csv")))
    # then the header and every value come back as they were
    assert list(found[0]) == list(COLUMNS)
    assert [(row["name"], row["school_name"]) for row in found] == [
        ("欧阳明", "南安市实验小学"),
        ("张*", "南安第一中学（高中部）"),
    ]


def test_every_cell_of_a_row_is_neutralised_lists_included() -> None:
    # given a row whose department-supplied values start formulas, one inside a list
    row = _row(
        1,
        name='=HYPERLINK("http://attacker.example","点此")',
        school_code="+1+1",
        school_name=" @SUM(A1:A9)",
        source_records=["350583000001", "-2+3+cmd|' /C calc'!A0"],
        grade=-1,
    )
    # when encoded
    [found] = _read(b"".join(encode(iter([row]), "csv")))
    # then each is quoted, the list part on its own, and the hub's own negative number stays a number
    assert found["name"] == '\'=HYPERLINK("http://attacker.example","点此")'
    assert found["school_code"] == "'+1+1"
    assert found["school_name"] == "' @SUM(A1:A9)"
    assert found["source_records"] == "350583000001;'-2+3+cmd|' /C calc'!A0"
    assert found["grade"] == "-1"
    assert (found["reasons"], found["aid_granted"]) == ("DIBAO;LOW_INCOME", "0")


# --- through the hub ----------------------------------------------------------------------------------

# Department data carrying formulas: a school's code and name, and a student's name.
SCHOOL_CODE = "=1+2"
SCHOOL_NAME = "@SUM(1+1)*cmd|' /C calc'!A0"
STUDENT_NAME = "-2+3+cmd|' /C calc'!A0"


def _rewrite(path: Path, change: dict[str, str], encoding: str = "utf-8") -> None:
    with path.open(encoding=encoding, newline="") as handle:
        rows = list(csv.reader(handle))
    with path.open("w", encoding=encoding, newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows([[change.get(cell, cell) for cell in row] for row in rows])


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    # given the tiny world, where one school's code and name, and a student's name, start formulas
    folder = tmp_path_factory.mktemp("csv-export")
    url = _fresh_store(request.param, request, folder)
    world = write_world(folder / "world")
    _rewrite(world / "education" / "xsxj.csv", {"3505830012": SCHOOL_CODE, "南安市实验小学": SCHOOL_NAME})
    _rewrite(world / "registry" / "persons.csv", {"张敏": STUDENT_NAME})
    engine = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    apply_demo_policy(engine)
    try:
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)
    finally:
        engine.dispose()


def _check(data: bytes) -> None:
    """The export of the tiny world: a BOM first, the formulas quoted, the Chinese name intact."""
    assert data.startswith(BOM) and data.count(BOM) == 1
    rows = {row["id_number"]: row for row in _read(data)}
    assert sorted(rows) == sorted([STUDENT, OLDER])
    student, older = rows[STUDENT], rows[OLDER]
    assert (student["school_code"], student["school_name"]) == ("'" + SCHOOL_CODE, "'" + SCHOOL_NAME)
    assert student["name"] == "'" + STUDENT_NAME
    assert (older["name"], older["school_name"]) == ("张强", "南安第一中学")
    assert student["reasons"] == "LOW_INCOME;MONITORED;REGISTERED_POOR"


def test_the_http_export_as_csv_is_safe_to_open_in_a_spreadsheet(hub: Hub) -> None:
    # when the student-aid system exports the term as CSV
    response = hub.http.get(
        "/students/export",
        params={"region": "3505", "term": TERM, "format": "csv"},
        headers={"Authorization": f"Bearer {hub.as_role('student-aid', 'student-aid')}"},
    )
    # then it is UTF-8 with a BOM, and no cell starts a formula
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    _check(response.content)


def test_the_export_command_writes_the_same_safe_csv(hub: Hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # when an operator exports the term with the command
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", hub.engine.url.render_as_string(hide_password=False))
    out = tmp_path / "students.csv"
    assert cli.main(["students", "export", "--region", "3505", "--term", TERM, "--out", str(out)]) == 0
    # then the file is as safe as the HTTP export
    _check(out.read_bytes())


def test_ndjson_is_sent_in_chunks_of_many_rows_not_one_chunk_per_row() -> None:
    # given more rows than one chunk holds
    rows = [_row(number) for number in range(2000)]
    # when they are encoded as NDJSON
    chunks = list(encode(iter(rows), "ndjson"))
    # then they come in a few chunks of whole lines, every row once and in order
    assert 1 < len(chunks) < 100 and all(chunk.endswith(b"\n") for chunk in chunks)
    assert [orjson.loads(line)["id_number"] for line in b"".join(chunks).splitlines()] == [
        row["id_number"] for row in rows
    ]
