"""The default demo, ingested on SQLite and PostgreSQL: Annex 2 reproduced, every bad row caught."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from starlette.testclient import TestClient

from adapters import store
from aidgraph.app import create_app
from aidgraph.settings import Settings
from resolvers.rules.regions import Region
from tests.schema.documents import HOUSEHOLD_PICTURE, HOUSEHOLDS, KEY_TARGETS
from tools.demo import ANNEX2


@pytest.fixture
def client(demo_url: str) -> Iterator[TestClient]:
    with TestClient(create_app(Settings(database_url=demo_url), open_access=True)) as client:
        yield client


def test_key_target_distribution_for_quanzhou_equals_annex_2(client: TestClient) -> None:
    # when the key targets of Quanzhou (350500) are asked for on the default demo
    body = client.post("/graphql", json={"query": KEY_TARGETS, "variables": {"region": "350500"}}).json()
    # then every county's four figures are those of seed 000's Annex 2, zeros included
    rows = body["data"]["keyTargetDistribution"]
    assert {row["countyCode"]: (row["countyName"], *list(row.values())[2:]) for row in rows} == {
        code: tuple(figures) for code, figures in ANNEX2.items()
    }
    totals = [sum(row[key] for row in rows) for key in list(rows[0])[2:]]
    assert totals == [368, 1184, 188, 656]


def test_key_targets_of_one_county(client: TestClient) -> None:
    body = client.post("/graphql", json={"query": KEY_TARGETS, "variables": {"region": "350583"}}).json()
    [row] = body["data"]["keyTargetDistribution"]
    assert (row["countyName"], row["unstableHouseholds"], row["epidemicPersons"]) == ("南安市", 175, 303)


def test_ingest_rejected_exactly_the_manifest_bad_rows(demo_engine: sa.Engine, demo_dir: Path) -> None:
    # given the generator's list of the bad rows it wrote
    manifest = json.loads((demo_dir / "manifest.json").read_text())
    expected = {(row["department"], row["file"], row["line"]) for row in manifest["bad_rows"]}
    # when the store's rejected rows are read back
    with demo_engine.connect() as connection:
        kept = store.rejections(connection)
    # then each bad row, and nothing else, was rejected, each with a reason
    assert {(row["department"], row["file"], row["line"]) for row in kept} == expected
    assert all(row["reason"] for row in kept)


def test_a_demo_household_picture_is_complete(client: TestClient) -> None:
    # given a household of the demo from the first page of Nan'an
    page = client.post("/graphql", json={"query": HOUSEHOLDS, "variables": {"region": "350583", "first": 5}}).json()
    numbers = [edge["node"]["householdNumber"] for edge in page["data"]["households"]["edges"]]
    assert len(numbers) == 5 and all(Region.of(number[:6]).prefix.startswith("350583") for number in numbers)
    # when its picture is asked for
    body = client.post("/graphql", json={"query": HOUSEHOLD_PICTURE, "variables": {"householdNumber": numbers[0]}})
    # then it answers without errors, with members
    assert "errors" not in body.json()
    assert body.json()["data"]["household"]["members"]
