"""Alembic environment: migrates the engine handed in by aidgraph.db.migrate."""

from __future__ import annotations

from alembic import context

import adapters.catalog  # noqa: F401  (registers every department's tables on the metadata)
import adapters.store  # noqa: F401
import auth.people.tables  # noqa: F401
import auth.tables  # noqa: F401
import casework.tables  # noqa: F401
import registered.tables  # noqa: F401
import webhooks.tables  # noqa: F401
from adapters.base import metadata

engine = context.config.attributes["engine"]
with engine.begin() as connection:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
