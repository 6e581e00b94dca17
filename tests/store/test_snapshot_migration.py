"""Revision 0009 on a store that already holds records: they stay current, valid since their as-of, with a history."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from adapters import registry
from aidgraph.db import alembic_config, create_engine
from tools.pgserver import ThrowawayPostgres

_numbers = itertools.count()
STAMP = dt.datetime(2026, 11, 20, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"blank_{next(_numbers)}")


def test_records_imported_before_the_revision_stay_current_valid_since_their_as_of(blank_url: str) -> None:
    # given a store at revision 0008 holding one household
    engine = create_engine(blank_url)
    config = alembic_config(engine)
    command.upgrade(config, "0008")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "INSERT INTO registry_household (record_key, household_number, region_code, residence_kind, "
                "row_hash, as_of) VALUES ('H1', 'H1', '350583101201', 'URBAN', '-', :stamp)"
            ),
            {"stamp": STAMP},
        )
    # when the store is brought to the newest revision
    command.upgrade(config, "head")
    # then the household is current, valid from its as-of, with an empty history beside it
    with engine.connect() as connection:
        [row] = connection.execute(sa.select(registry.HOUSEHOLDS.table)).mappings().all()
        history = connection.execute(sa.select(sa.func.count()).select_from(registry.HOUSEHOLDS.history)).scalar()
    valid_from = row["valid_from"] if row["valid_from"].tzinfo else row["valid_from"].replace(tzinfo=dt.UTC)
    assert (row["record_key"], valid_from, row["ingest_run"], history) == ("H1", STAMP, None, 0)
    # and the revision can be undone
    command.downgrade(config, "0008")
    with engine.connect() as connection:
        assert "registry_household_history" not in sa.inspect(connection).get_table_names()
    engine.dispose()
