"""`totalCount` kept per data version (resolvers/students/counts.py), on SQLite and PostgreSQL: always a recount's.

The rules themselves are tested in tests/store/test_students.py; here: the kept count equals a recount for
every region and stage, is counted again when an import changes the data (for every worker), and is kept
apart per set of regions.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

from aidgraph.db import create_engine
from resolvers.students.counts import eligible_count
from resolvers.students.eligibility import count_eligible
from tests.store.test_students import ANXI, NANAN, TERM, World

REGIONS = [["35"], ["3505"], [NANAN], [ANXI], [NANAN, ANXI], [f"{NANAN}101"], ["3506"]]
STAGES = [None, "PRIMARY", "JUNIOR_SECONDARY", "SENIOR_SECONDARY"]


@contextmanager
def _statements(engine: sa.Engine) -> Iterator[list[str]]:
    sent: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        sent.append(statement)

    sa.event.listen(engine, "before_cursor_execute", note)
    try:
        yield sent
    finally:
        sa.event.remove(engine, "before_cursor_execute", note)


def _world() -> tuple[World, dict[str, str]]:
    """Students of two counties and stages, some eligible; `spare`: an enrolled student with no reason yet."""
    world = World()
    nanan, anxi, poor = world.household(), world.household(county=ANXI), world.household()
    world.dibao(poor)
    world.monitored(anxi, "2026-03-01")
    for household in (nanan, anxi, poor):
        for stage in (1, 2, 3):
            world.student(household, stage=stage)
    spare = world.student(nanan)
    return world, {"nanan": nanan, "spare": spare}


def _both(engine: sa.Engine, regions: list[str], stage: str | None = None) -> tuple[int, int]:
    with engine.connect() as connection:
        return (
            eligible_count(connection, term=TERM, regions=regions, stage=stage),
            count_eligible(connection, term=TERM, regions=regions, stage=stage),
        )


def test_the_kept_count_is_a_recount_for_every_region_and_stage(engine: sa.Engine, tmp_path: Path) -> None:
    # given students of two counties, stages and reasons
    world, _ = _world()
    world.ingest(engine, tmp_path)
    for regions in REGIONS:
        for stage in STAGES:
            # when the count is asked twice (the second is the kept one)
            first, recount = _both(engine, regions, stage)
            again, _ = _both(engine, regions, stage)
            # then both are what a recount gives
            assert first == again == recount, (regions, stage)
    assert _both(engine, [NANAN])[0] == 3 and _both(engine, [ANXI])[0] == 3 and _both(engine, ["35"])[0] == 6


def test_a_kept_count_costs_one_small_statement(engine: sa.Engine, tmp_path: Path) -> None:
    world, _ = _world()
    world.ingest(engine, tmp_path)
    with engine.connect() as connection:
        eligible_count(connection, term=TERM, regions=["3505"])
        # when the same count is asked again
        with _statements(engine) as sent:
            eligible_count(connection, term=TERM, regions=["3505"])
    # then only the data version is read, not the students
    assert len(sent) == 1 and "ingest_run" in sent[0] and "education_enrolment" not in sent[0]


def test_an_import_that_adds_or_removes_an_eligible_student_changes_the_count(store_url: str, tmp_path: Path) -> None:
    # given two workers (engines of their own) that both counted the city
    world, names = _world()
    workers = [create_engine(store_url), create_engine(store_url)]
    try:
        world.ingest(workers[0], tmp_path / "first")
        assert [_both(worker, ["3505"]) for worker in workers] == [(6, 6), (6, 6)]
        # when an import gives the spare student's household a reason (a dibao award)
        world.dibao(names["nanan"])
        world.ingest(workers[0], tmp_path / "second")
        # then every worker counts again: the three children of that household and the spare student
        assert [_both(worker, ["3505"]) for worker in workers] == [(10, 10), (10, 10)]
        assert [_both(worker, [NANAN]) for worker in workers] == [(7, 7), (7, 7)]
        # and when a later import no longer holds the award
        world.rows["civil_affairs/dibao.csv"].pop()
        world.ingest(workers[1], tmp_path / "third")
        # then the count falls back, for every worker
        assert [_both(worker, ["3505"]) for worker in workers] == [(6, 6), (6, 6)]
    finally:
        for worker in workers:
            worker.dispose()


@pytest.mark.parametrize("first", [["3505"], [ANXI]])
def test_a_count_is_kept_per_set_of_regions(engine: sa.Engine, tmp_path: Path, first: list[str]) -> None:
    # given a count kept for one set of regions
    world, _ = _world()
    world.ingest(engine, tmp_path)
    _both(engine, first)
    # when another set of regions is counted
    # then each gets its own recount, never the other's
    for regions in ([NANAN], [ANXI], ["3505"], [NANAN, ANXI], ["3506"]):
        kept, recount = _both(engine, regions)
        assert kept == recount, regions
    assert _both(engine, ["3506"]) == (0, 0)
