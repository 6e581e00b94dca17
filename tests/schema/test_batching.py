"""A household's full picture costs a fixed number of SQL statements whatever its size."""

from __future__ import annotations

import asyncio
from pathlib import Path

import sqlalchemy as sa

import schema
from adapters.catalog import DEPARTMENTS
from adapters.ingest import ingest_folder
from resolvers.context import Context
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.world import LARGE, SMALL, write_world


def _statements_for(engine: sa.Engine, household_number: str) -> tuple[int, dict[str, object]]:
    executed: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        executed.append(statement)

    context = Context.create(engine, {}, list(DEPARTMENTS))
    sa.event.listen(engine, "before_cursor_execute", count)
    try:
        result = asyncio.run(
            schema.create_schema().execute(
                HOUSEHOLD_PICTURE, variable_values={"householdNumber": household_number}, context_value=context
            )
        )
    finally:
        sa.event.remove(engine, "before_cursor_execute", count)
        context.connection.close()
    assert result.errors is None, result.errors
    assert result.data is not None
    return len(executed), result.data


def test_statement_count_is_the_same_for_2_and_8_members(engine: sa.Engine, tmp_path: Path) -> None:
    # given a 2-person and an 8-person household with records in every department
    world = write_world(tmp_path / "world")
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, world / name)
    # when the full household picture is queried for each
    small_count, small = _statements_for(engine, SMALL)
    large_count, large = _statements_for(engine, LARGE)
    # then both pictures are complete
    assert len(small["household"]["members"]) == 2  # type: ignore[index]
    assert len(large["household"]["members"]) == 8  # type: ignore[index]
    # and both cost the same, small, number of statements: one per (table, key) at most
    assert small_count == large_count
    assert large_count <= 24
