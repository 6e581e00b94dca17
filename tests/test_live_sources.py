"""Departments read live from their own PostgreSQL databases (the sources file), and a failing one."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters import idnumber
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.world import LARGE_MEMBERS, SMALL_HEAD, write_world
from tools.pgserver import ThrowawayPostgres

_numbers = itertools.count()

PICTURE = """
query ($idNumber: String!) {
  person(idNumber: $idNumber) {
    name
    medical { settlements { settlementId outOfPocket fromDate diagnosisCode source { department table } } }
    disability { certificate { certificateNumber category grade issuedOn } }
    civilAffairs { dibao { coverage } }
  }
}
"""

MEDICAL_TABLES = """
CREATE TABLE cbxx (sfzh text, nd text, xzlx text, grjf text, zzje text, zzlb text);
CREATE TABLE jsxx (jsid text, sfzh text, lx text, ryrq text, cyrq text, zfy bigint, jbyl bigint, dbbx bigint,
                   yljz bigint, grzf bigint, zddm text, extra_column text);
"""
DISABILITY_TABLES = """
CREATE TABLE cjr (sfzh text, cjzh text, cjlb text, cjdj integer, fzrq date, yxq date);
CREATE TABLE lxbt (sfzh text, btlx text, yje numeric(10, 2), qsrq date, zzrq date);
"""


def _department_database(server: ThrowawayPostgres, ddl: str, rows: list[tuple[str, dict]]) -> str:
    url = server.create_database(f"department_{next(_numbers)}")
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        for statement in filter(str.strip, ddl.split(";")):
            connection.execute(sa.text(statement))
        for sql, values in rows:
            connection.execute(sa.text(sql), values)
    engine.dispose()
    return url


@pytest.fixture
def hub(store_url: str, engine: sa.Engine, tmp_path: Path, postgres: ThrowawayPostgres) -> Iterator[TestClient]:
    # given a hub whose registry and civil affairs were ingested from CSV
    world = write_world(tmp_path / "world")
    for name in ("registry", "civil_affairs"):
        ingest_folder(engine, DEPARTMENTS[name], world / name)
    # and medical and disability living in their own PostgreSQL databases, ids in their old spellings
    legacy = idnumber.to_legacy(SMALL_HEAD)
    holder = LARGE_MEMBERS[2][0]
    medical = _department_database(
        postgres,
        MEDICAL_TABLES,
        [
            (
                "INSERT INTO jsxx VALUES ('JS9', :id, '2', '20260311', '20260318', 1254300, 802100, 120000, 200000,"
                " 132200, 'i63.9', 'ignored')",
                {"id": legacy},
            ),
            ("INSERT INTO jsxx VALUES ('JSBAD', :id, '7', '2026', NULL, 1, 1, 0, 0, 0, NULL, NULL)", {"id": legacy}),
        ],
    )
    disability = _department_database(
        postgres,
        DISABILITY_TABLES,
        [
            (
                "INSERT INTO cjr VALUES (:id, :cert, '4', 2, DATE '2021-06-01', DATE '2031-05-31')",
                {"id": holder, "cert": holder + "42"},
            )
        ],
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(
        f"departments:\n  medical: {{url: '{medical}', timeout_seconds: 5}}\n  disability: {{url: '{disability}'}}\n"
    )
    with TestClient(create_app(Settings(database_url=store_url, sources_file=sources), open_access=True)) as client:
        yield client


def test_live_departments_answer_like_ingested_ones(hub: TestClient) -> None:
    # when a person is asked for whose medical records the department stores under the 15-digit id
    body = hub.post("/graphql", json={"query": PICTURE, "variables": {"idNumber": SMALL_HEAD}}).json()
    # then the records come from the medical database, parsed like its export (fen, YYYYMMDD, codes)
    assert "errors" not in body, body
    person = body["data"]["person"]
    assert person["medical"]["settlements"] == [
        {
            "settlementId": "JS9",
            "outOfPocket": "1322.00",
            "fromDate": "2026-03-11",
            "diagnosisCode": "I63.9",
            "source": {"department": "medical", "table": "jsxx"},
        }
    ]  # the row with an unknown kind and a bad date is not served
    assert person["civilAffairs"]["dibao"][0]["coverage"] == "WHOLE_HOUSEHOLD"  # from the store


def test_a_second_live_department_with_typed_columns(hub: TestClient) -> None:
    holder = LARGE_MEMBERS[2][0]
    body = hub.post("/graphql", json={"query": PICTURE, "variables": {"idNumber": holder}}).json()
    assert body["data"]["person"]["disability"]["certificate"] == {
        "certificateNumber": holder + "42",
        "category": "PHYSICAL",
        "grade": 2,
        "issuedOn": "2021-06-01",
    }


def test_an_unreachable_department_gives_a_partial_answer(store_url: str, engine: sa.Engine, tmp_path: Path) -> None:
    # given medical configured on a database nobody listens on
    world = write_world(tmp_path / "world")
    for name in ("registry", "civil_affairs"):
        ingest_folder(engine, DEPARTMENTS[name], world / name)
    sources = tmp_path / "sources.yaml"
    sources.write_text("departments:\n  medical: {url: 'postgresql://nobody@127.0.0.1:9/none', timeout_seconds: 2}\n")
    with TestClient(create_app(Settings(database_url=store_url, sources_file=sources), open_access=True)) as client:
        # when a person's picture is asked for
        body = client.post("/graphql", json={"query": PICTURE, "variables": {"idNumber": SMALL_HEAD}}).json()
    # then the medical part is null with SOURCE_UNAVAILABLE, and the rest is answered
    person = body["data"]["person"]
    assert person["name"] == "欧阳明"
    assert person["medical"] is None
    assert person["civilAffairs"]["dibao"][0]["coverage"] == "WHOLE_HOUSEHOLD"
    [error] = body["errors"]
    assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "department": "medical"}
    assert error["path"][:2] == ["person", "medical"]
