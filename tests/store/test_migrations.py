"""The Alembic migrations build exactly the tables the code declares, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

import adapters.catalog  # noqa: F401  (registers every department's tables)
import auth.people.tables  # noqa: F401  (and the console's people)
import auth.tables  # noqa: F401  (and the access-control tables)
import casework.tables  # noqa: F401  (and the casework tables)
import registered.tables  # noqa: F401  (and the registered operations)
import webhooks.tables  # noqa: F401  (and the webhook tables)
from adapters.base import metadata


def test_migrated_store_matches_the_declared_tables(engine: sa.Engine) -> None:
    # given a store built by the migrations (the fixture ran `upgrade head`)
    with engine.connect() as connection:
        # when it is compared with the tables the adapters declare
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    # then there is nothing a new migration would have to add, drop or change
    assert differences == []
