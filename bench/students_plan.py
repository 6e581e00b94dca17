"""The plan and timings of issue 4's page statement (resolvers/students/eligibility.py) on the demo store.

    .venv/bin/python bench/students_plan.py [--households 3000] [--regions 3505,350583] [--limit 50] [--runs 5]

Starts a throwaway PostgreSQL server, generates the demo (default size unless --households) and
ingests it there and into a SQLite file. For each region (the city walks the term's enrolments in
id order, a county reads its students first: see resolvers/students/eligibility.py) it prints PostgreSQL's
EXPLAIN (ANALYZE, BUFFERS) of the first page's statement exactly as `eligible_page` sends it
(every value is rendered into the text, so the plan is the one the hub gets), then the median
time of a page, the count and the whole list through `iter_eligible` on both backends.
docs/students.md keeps a run of it with commentary.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from adapters.catalog import DEPARTMENTS  # noqa: E402
from adapters.ingest import ingest_folder  # noqa: E402
from aidgraph.db import create_engine, migrate  # noqa: E402
from resolvers.students import eligibility as students  # noqa: E402
from tools.demo import generate  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402


def _load(url: str, folder: Path) -> sa.Engine:
    engine = create_engine(url)
    migrate(engine)
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, folder / name)
    return engine


def _median_ms(action: Callable[[], Any], runs: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = action()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def _timings(engine: sa.Engine, args: argparse.Namespace, region: str) -> None:
    options: dict[str, Any] = {"term": args.term, "regions": [region]}
    with engine.connect() as connection:
        page_ms, page = _median_ms(lambda: students.eligible_page(connection, **options, limit=args.limit), args.runs)
        count_ms, count = _median_ms(lambda: students.count_eligible(connection, **options), args.runs)
        whole_ms, whole = _median_ms(lambda: sum(1 for _ in students.iter_eligible(connection, **options)), args.runs)
    print(
        f"{region:8} {engine.dialect.name:10} page of {len(page)}: {page_ms:7.1f} ms"
        f" | count = {count}: {count_ms:7.1f} ms | iter_eligible, {whole} students: {whole_ms:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--term", default="2026-2027-1")
    parser.add_argument("--regions", default="3505,350583", help="comma-separated division-code prefixes")
    parser.add_argument("--limit", type=int, default=50)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()

    postgres = ThrowawayPostgres().start()
    try:
        with tempfile.TemporaryDirectory(prefix="aidgraph-students-") as work:
            folder = Path(work) / "demo"
            generate(folder, households=args.households)
            engines = [_load(postgres.create_database("students"), folder), _load(f"sqlite:///{work}/store.db", folder)]
            regions = args.regions.split(",")
            for region in regions:
                statement = students.page_statement(term=args.term, regions=[region], limit=args.limit)
                compiled = statement.compile(engines[0], compile_kwargs={"render_postcompile": True})
                assert not compiled.params, "the page statement carries every value in its text"
                with engines[0].connect() as connection:
                    connection.exec_driver_sql(str(compiled)).all()  # warm the cache, as a served page would find it
                    plan = connection.exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {compiled}").scalars().all()
                print(f"-- EXPLAIN (ANALYZE, BUFFERS): page of {args.limit}, term {args.term}, region {region}")
                print("\n".join(plan))
                print()
            for region in regions:
                for engine in engines:
                    _timings(engine, args, region)
            for engine in engines:
                engine.dispose()
    finally:
        postgres.stop()


if __name__ == "__main__":
    main()
