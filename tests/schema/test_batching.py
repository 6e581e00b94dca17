"""A household's full picture costs a fixed number of SQL statements whatever its size."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

import schema
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from auth.access import Access
from resolvers.context import Context
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.world import LARGE, SMALL, write_world


@contextmanager
def counting_statements(engine: sa.Engine) -> Iterator[list[int]]:
    """Count what the database executes: SQLAlchemy's events on SQLite; on PostgreSQL the server's own
    pg_stat_statements, because the store reads there through psycopg directly."""
    counted = [0]
    if engine.dialect.name == "sqlite":

        def count(*_args: object) -> None:
            counted[0] += 1

        sa.event.listen(engine, "before_cursor_execute", count)
        try:
            yield counted
        finally:
            sa.event.remove(engine, "before_cursor_execute", count)
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("CREATE EXTENSION IF NOT EXISTS pg_stat_statements"))
        connection.execute(sa.text("SELECT pg_stat_statements_reset()"))
        yield counted
        counted[0] = connection.execute(
            sa.text(
                "SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE dbid = "
                "(SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT LIKE '%pg_stat%'"
            )
        ).scalar_one()


def _picture(engine: sa.Engine, household_number: str) -> tuple[int, dict]:
    context = Context.create(engine, {}, list(DEPARTMENTS), Access.unrestricted())
    context.connection()  # connect first: only the query's own statements are counted
    try:
        with counting_statements(engine) as counted:
            result = asyncio.run(
                schema.create_schema().execute(
                    HOUSEHOLD_PICTURE, variable_values={"householdNumber": household_number}, context_value=context
                )
            )
    finally:
        context.connection.close()
    assert result.errors is None, result.errors
    assert result.data is not None
    return counted[0], result.data


def test_statement_count_is_the_same_for_2_and_8_members(engine: sa.Engine, tmp_path: Path) -> None:
    # given a 2-person and an 8-person household with records in every department
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    # when the full household picture is queried for each
    small_count, small = _picture(engine, SMALL)
    large_count, large = _picture(engine, LARGE)
    # then both pictures are complete
    assert len(small["household"]["members"]) == 2
    assert len(large["household"]["members"]) == 8
    members = large["household"]["members"]
    assert [m["disability"]["certificate"]["grade"] for m in members if m["disability"]["certificate"]] == [2]
    assert sum(len(m["medical"]["insurance"]) for m in members) == 8
    # and both cost the same number of statements: on PostgreSQL two (the household alone, whose region
    # decides whether it exists for the caller; then its records, its members and, through them, their
    # records); on SQLite one per table and key at most
    assert small_count == large_count
    assert (large_count == 2) if engine.dialect.name == "postgresql" else (3 <= large_count <= 24)
