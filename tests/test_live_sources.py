"""Departments read live from their own PostgreSQL databases (the sources file), and a failing one."""

from __future__ import annotations

import asyncio
import itertools
import logging
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters import idnumber
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from adapters.sources import DatabaseSource, SourceUnavailable
from adapters.store import LoadRequest
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


def department_database(server: ThrowawayPostgres, ddl: str, rows: list[tuple[str, dict]]) -> str:
    """A database of its own on the throwaway server, holding a department's native tables and rows."""
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
    medical = department_database(
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
    disability = department_database(
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
    extensions = dict(error["extensions"])
    request_id = extensions.pop("requestId")
    assert extensions == {"code": "SOURCE_UNAVAILABLE", "department": "medical"}
    assert error["message"] == f"the medical department's system did not answer (request id {request_id})"
    assert error["path"][:2] == ["person", "medical"]


def test_a_failing_department_database_is_named_to_the_client_and_explained_in_the_log(
    store_url: str, engine: sa.Engine, tmp_path: Path, postgres: ThrowawayPostgres, caplog: pytest.LogCaptureFixture
) -> None:
    # given disability configured on a database that answers, but lacks its `cjr` table
    world = write_world(tmp_path / "world")
    for name in ("registry", "civil_affairs"):
        ingest_folder(engine, DEPARTMENTS[name], world / name)
    disability = department_database(
        postgres, DISABILITY_TABLES.replace("CREATE TABLE cjr", "CREATE TABLE cjr_old"), []
    )
    sources = tmp_path / "sources.yaml"
    sources.write_text(f"departments:\n  disability: {{url: '{disability}'}}\n")
    app = create_app(Settings(database_url=store_url, sources_file=sources), open_access=True)
    # when a person's disability certificate is asked for
    with TestClient(app) as client, caplog.at_level(logging.DEBUG):
        response = client.post("/graphql", json={"query": PICTURE, "variables": {"idNumber": LARGE_MEMBERS[2][0]}})
    # then the client is told that the department did not answer, with a request id, and nothing of why
    [error] = response.json()["errors"]
    request_id = error["extensions"]["requestId"]
    assert error["message"] == f"the disability department's system did not answer (request id {request_id})"
    assert error["extensions"] == {"code": "SOURCE_UNAVAILABLE", "department": "disability", "requestId": request_id}
    assert "cjr" not in response.text and "relation" not in response.text
    # and the log says why, under that request id
    [line] = [record.getMessage() for record in caplog.records if request_id in record.getMessage()]
    assert 'relation "cjr" does not exist' in line and "disability" in line


def test_a_database_quoting_back_a_key_has_it_cut_from_the_detail(tmp_path: Path) -> None:
    # given a department database that, failing, quotes the key it was asked for (as a cast error does)
    holder = LARGE_MEMBERS[2][0]
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'disability.db'}")

    def fail(*_args: object) -> None:
        raise sqlite3.OperationalError(f'invalid input syntax for type bigint: "{holder}"')

    sa.event.listen(engine, "before_cursor_execute", fail)
    source = DatabaseSource(DEPARTMENTS["disability"], engine)
    # when the holder's certificate is read
    with pytest.raises(SourceUnavailable) as failed:
        source.fetch_now([LoadRequest(DEPARTMENTS["disability"].file("cjr"), "id_number", [holder])])
    source.dispose()
    # then the detail for the log says what failed, without the key; the error's text names the department only
    assert failed.value.detail == 'OperationalError: invalid input syntax for type bigint: "…"'
    assert str(failed.value) == "the disability department's system did not answer"


def test_a_department_database_failing_five_times_is_not_asked_a_sixth(tmp_path: Path) -> None:
    # given a department database whose every statement fails, counting the statements it is sent
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'disability.db'}")
    sent = []

    def fail(*_args: object) -> None:
        sent.append(1)
        raise sqlite3.OperationalError("disk I/O error")

    sa.event.listen(engine, "before_cursor_execute", fail)
    source = DatabaseSource(DEPARTMENTS["disability"], engine)
    certificates = [LoadRequest(DEPARTMENTS["disability"].file("cjr"), "id_number", [LARGE_MEMBERS[2][0]])]
    # when it is read five times, and then again, once directly and once as a prefetched batch
    for _ in range(5):
        with pytest.raises(SourceUnavailable) as failed:
            source.fetch_now(certificates)
        assert failed.value.detail == "OperationalError: disk I/O error"
    with pytest.raises(SourceUnavailable) as direct:
        source.fetch_now(certificates)
    with pytest.raises(SourceUnavailable) as batched:
        asyncio.run(source.fetch(certificates))
    source.dispose()
    # then the database saw five statements only: the breaker was open, and says so in the detail
    assert len(sent) == 5
    assert direct.value.detail.startswith("circuit open after 5 consecutive failures")
    assert batched.value.detail == direct.value.detail
    health = source.health()
    assert (health.kind, health.state, health.consecutive_failures) == ("database", "open", 5)
