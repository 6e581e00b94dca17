"""Revision 0013 on a store that already holds policy versions: each went live when applied, so each is approved."""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command

from aidgraph.db import alembic_config, create_engine
from auth.policy_store import PolicyCache
from auth.tables import policy_version
from tests.access import DEMO_POLICY_TEXT
from tools.pgserver import ThrowawayPostgres

_numbers = itertools.count()
APPLIED = dt.datetime(2026, 11, 20, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database, not migrated."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'blank.db'}"
    server: ThrowawayPostgres = request.getfixturevalue("postgres")
    return server.create_database(f"blank_policy_{next(_numbers)}")


def test_versions_applied_before_the_revision_are_approved_each_on_the_one_before(blank_url: str) -> None:
    # given a store at revision 0011 holding two versions, applied by two people
    engine = create_engine(blank_url)
    config = alembic_config(engine)
    command.upgrade(config, "0011")
    with engine.begin() as connection:
        for version, person in ((1, "wang"), (2, "li")):
            connection.execute(
                sa.text(
                    "INSERT INTO policy_version (version, document, sha256, applied_by, applied_at)"
                    " VALUES (:version, :document, '-', :person, :at)"
                ),
                {"version": version, "document": DEMO_POLICY_TEXT, "person": person, "at": APPLIED},
            )
    # when the store is brought to the newest revision
    command.upgrade(config, "head")
    # then each version is approved by the person who applied it, based on the one before, and 2 is live
    with engine.connect() as connection:
        rows = connection.execute(sa.select(policy_version).order_by(policy_version.c.version)).mappings().all()
    assert [(r["status"], r["based_on"], r["approved_by"], r["reason"]) for r in rows] == [
        ("approved", None, "wang", None),
        ("approved", 1, "li", None),
    ]
    assert PolicyCache(engine, ttl=0).current().version == 2  # type: ignore[union-attr]
    # and the revision can be undone
    command.downgrade(config, "0011")
    with engine.connect() as connection:
        columns = {column["name"] for column in sa.inspect(connection).get_columns("policy_version")}
    assert "status" not in columns and "approved_by" not in columns
    engine.dispose()
