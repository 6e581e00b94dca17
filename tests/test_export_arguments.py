"""`aidgraph students export` and `GET /students/export` take the same defaults and refuse in the same words.

On the tiny world, SQLite and PostgreSQL: each case is asked both ways, and the command's message
(after its `aidgraph students export: ` prefix) is the endpoint's error message, word for word.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from aidgraph.app import create_app
from aidgraph.settings import Settings
from tests.access import world_store
from tests.conftest import BACKENDS
from tests.test_access import Hub
from tests.test_cli_access import Command
from tests.world import LARGE_MEMBERS, STUDENT

TERM = "2026-2027-1"
STUDENTS = sorted([STUDENT, LARGE_MEMBERS[4][0]])
PREFIX = "aidgraph students export: "


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("export-arguments")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


@pytest.fixture
def aidgraph(hub: Hub, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Command:
    monkeypatch.setenv("AIDGRAPH_DATABASE_URL", hub.engine.url.render_as_string(hide_password=False))
    return Command(capsys, monkeypatch)


def _over_http(hub: Hub, params: dict[str, str]) -> tuple[int, str]:
    bearer = hub.as_role("student-aid", "student-aid")
    response = hub.http.get("/students/export", params=params, headers={"Authorization": f"Bearer {bearer}"})
    return response.status_code, response.text


def _options(params: dict[str, str]) -> list[str]:
    return [part for name, value in params.items() for part in (f"--{name}", value)]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"term": TERM}, "region: missing"),
        ({"region": "3505"}, "term: missing"),
        ({}, "region: missing; term: missing"),
        ({"region": "", "term": TERM}, "region: missing"),
        (
            {"region": "35x", "term": TERM},
            "region: '35x' is not a division code or prefix (2 to 12 digits, e.g. 350583)",
        ),
        ({"region": "3505", "term": TERM, "format": "xlsx"}, "format: 'xlsx' is not one of csv, ndjson"),
        (
            {"region": "3505", "term": TERM, "stage": "KINDERGARTEN"},
            "stage: 'KINDERGARTEN' is not one of PRESCHOOL, PRIMARY, JUNIOR_SECONDARY, SENIOR_SECONDARY, "
            "SECONDARY_VOCATIONAL, HIGHER_VOCATIONAL, UNDERGRADUATE, POSTGRADUATE",
        ),
    ],
)
def test_both_ways_in_refuse_the_same_arguments_in_the_same_words(
    hub: Hub, aidgraph: Command, params: dict[str, str], message: str
) -> None:
    # when the export is asked for with these arguments over HTTP and with the command
    status, body = _over_http(hub, params)
    code, out, err = aidgraph("students", "export", *_options(params))
    # then both refuse, naming what is missing or wrong in the same message
    assert (status, json.loads(body)["errors"]) == (
        400,
        [{"message": message, "extensions": {"code": "BAD_USER_INPUT"}}],
    )
    assert (code, out, err) == (2, "", PREFIX + message + "\n")


def test_both_ways_in_default_to_the_same_format(hub: Hub, aidgraph: Command) -> None:
    # when the export is asked for with only a region and a term, both ways
    status, body = _over_http(hub, {"region": "3505", "term": TERM})
    code, out, err = aidgraph("students", "export", "--region", "3505", "--term", TERM)
    # then both answer the same CSV, with a byte-order mark
    assert (status, code) == (200, 0), err
    assert body == out
    rows = list(csv.DictReader(io.StringIO(body.removeprefix("\ufeff"))))
    assert [row["id_number"] for row in rows] == STUDENTS


def test_a_stage_filters_both_ways_alike(hub: Hub, aidgraph: Command, tmp_path: Path) -> None:
    # when both ways in ask for one stage as NDJSON
    asked = {"region": "3505", "term": TERM, "format": "ndjson", "stage": "SENIOR_SECONDARY"}
    status, body = _over_http(hub, asked)
    out = tmp_path / "senior.ndjson"
    code, _, err = aidgraph("students", "export", *_options(asked), "--out", str(out))
    # then both hold only that stage's student
    assert (status, code) == (200, 0), err
    assert [json.loads(line)["stage"] for line in body.splitlines()] == ["SENIOR_SECONDARY"]
    assert out.read_text(encoding="utf-8") == body
