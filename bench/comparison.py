"""Benchmark: the whole-city comparison run (all 8 rules, items stored) beside its hand-written floor.

    .venv/bin/python bench/comparison.py [--households 20000] [--region 3505] [--repeat 3] [--pages 20]

Starts a throwaway PostgreSQL server and loads a demo city of that many households (about 3 persons
each; `--households 327000` is the ~1M-person city of issue 10, which takes long to generate and
ingest). It then measures, as of the day it runs:

(a) the floor: bench/comparison_floor.sql, the 8 rules written by hand over the current tables, each
    statement's (rule, subject, programme) rows inserted into a temporary table (the least a run that
    keeps its findings must do), under the hub's session settings;
(b) the hub's first run (`casework.comparison.run`: every rule, its evidence, the items created with
    their history and links), and a second run on the same data (every item found again: linked);
(c) one item page of a caseworker: the first 50 items of a rule of the run in the region, by id.

Before it prints anything it checks that the first run found exactly the floor's keys, rule by rule,
and exits non-zero if not. It prints the figures and the ratio of the run to its floor (target <= 2)
and the page's p50 and max (target <= 100 ms).
"""

from __future__ import annotations

import argparse
import datetime as dt
import shutil
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import psycopg
import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from household import load_demo  # noqa: E402

from aidgraph.db import create_engine  # noqa: E402
from casework.comparison.ledger import run_items  # noqa: E402
from casework.comparison.person_rules import ADULT_AGE  # noqa: E402
from casework.comparison.rules import RULES  # noqa: E402
from casework.comparison.run import run  # noqa: E402
from casework.tables import comparison_item, comparison_run_item  # noqa: E402
from resolvers.rules.ages import latest_birth_of_age  # noqa: E402
from resolvers.rules.periods import window  # noqa: E402
from resolvers.rules.terms import term_of  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

FLOOR_SQL = [
    "\n".join(line for line in block.splitlines() if not line.startswith("--"))
    for block in (REPOSITORY / "bench" / "comparison_floor.sql").read_text().split("\n\n")
]
RUN_TARGET_RATIO = 2.0
PAGE_TARGET_MS = 100.0
PAGE_SIZE = 50
Keys = set[tuple[str, str, str]]


def _parameters(day: dt.date, region: str) -> dict[str, object]:
    term = term_of(day)
    return {
        "day": day,
        "year": day.year,
        "prefix": f"{region}%",
        "term": str(term),
        "term_start": term.start,
        "term_year": term.start.year,
        "window_after": window(day)[0],
        "adult_cutoff": latest_birth_of_age(day, ADULT_AGE),
        "adult_cutoff_text": latest_birth_of_age(day, ADULT_AGE).strftime("%Y%m%d"),
    }


def time_floor(dsn: str, day: dt.date, region: str) -> tuple[float, Keys]:
    """The floor's seconds, and its keys."""
    parameters = _parameters(day, region)
    options = "-c plan_cache_mode=force_generic_plan -c jit=off"  # the hub's sessions (aidgraph.db)
    # Bound on the client: the values are in the statement's text, as the hub's are.
    with psycopg.connect(dsn, options=options, cursor_factory=psycopg.ClientCursor) as connection:
        connection.execute("CREATE TEMPORARY TABLE floor_item (rule text, subject text, programme text)")
        started = time.perf_counter()
        for statement in FLOOR_SQL:
            connection.execute(f"INSERT INTO floor_item {statement}", parameters)  # type: ignore[arg-type]
        seconds = time.perf_counter() - started
        keys = {tuple(row) for row in connection.execute("SELECT rule, subject, programme FROM floor_item")}
        connection.rollback()
    return seconds, keys  # type: ignore[return-value]


def time_run(url: str, day: dt.date, region: str) -> tuple[float, int, dict[str, int | None]]:
    engine = create_engine(url)
    started = time.perf_counter()
    result = run(engine, region=region, by="bench", as_of=day)
    seconds = time.perf_counter() - started
    engine.dispose()
    return seconds, result.run_id, result.counts


def run_keys(url: str, run_id: int) -> Keys:
    engine = create_engine(url)
    query = (
        sa.select(comparison_item.c.rule, comparison_item.c.subject, comparison_item.c.programme)
        .join(comparison_run_item, comparison_run_item.c.item_id == comparison_item.c.id)
        .where(comparison_run_item.c.run_id == run_id)
    )
    with engine.connect() as connection:
        keys = {tuple(row) for row in connection.execute(query)}
    engine.dispose()
    return keys  # type: ignore[return-value]


def time_pages(url: str, run_id: int, rule: str, region: str, pages: int) -> list[float]:
    engine = create_engine(url)
    times = []
    with engine.connect() as connection:
        for _ in range(pages):
            started = time.perf_counter()
            found = run_items(connection, run_id, rule=rule, region=region, limit=PAGE_SIZE)
            times.append((time.perf_counter() - started) * 1000)
    engine.dispose()
    assert found, f"no items of {rule} to page"
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--households", type=int, default=20000, help="general population (327000: ~1M persons)")
    parser.add_argument("--region", default="3505", help="the run's region (default: the whole city)")
    parser.add_argument("--repeat", type=int, default=3, help="floor timings (the median is reported)")
    parser.add_argument("--pages", type=int, default=20, help="item pages timed")
    args = parser.parse_args()
    day = dt.datetime.now(dt.UTC).date()
    postgres = ThrowawayPostgres().start()
    work = Path(tempfile.mkdtemp(prefix="aidgraph-bench-"))
    try:
        url = postgres.create_database("bench")
        load_demo(url, args.households, work / "demo")
        dsn = url.replace("+psycopg", "")
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute("VACUUM (ANALYZE)")
        floors = [time_floor(dsn, day, args.region) for _ in range(args.repeat)]
        floor_seconds = statistics.median(seconds for seconds, _ in floors)
        floor_keys = floors[0][1]
        first_seconds, first_run, counts = time_run(url, day, args.region)
        found = run_keys(url, first_run)
        if found != floor_keys:
            extra, missing = sorted(found - floor_keys)[:5], sorted(floor_keys - found)[:5]
            sys.exit(f"ERROR: the run and its floor disagree: only the run {extra}, only the floor {missing}")
        second_seconds, _, _ = time_run(url, day, args.region)
        per_rule = Counter(rule for rule, _, _ in found)
        busiest = max(per_rule, key=lambda code: per_rule[code]) if per_rule else RULES[0].code
        pages = time_pages(url, first_run, busiest, args.region, args.pages)
        _report(args, day, counts, floor_seconds, first_seconds, second_seconds, busiest, pages)
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)


def _report(
    args: argparse.Namespace,
    day: dt.date,
    counts: dict[str, int | None],
    floor: float,
    first: float,
    second: float,
    rule: str,
    pages: list[float],
) -> None:
    total = sum(count or 0 for count in counts.values())
    print(f"\ncomparison run of region {args.region} as of {day}: {total:,} findings")
    print("  " + ", ".join(f"{code} {'-' if count is None else f'{count:,}'}" for code, count in counts.items()))
    print(f"floor (8 hand-written statements, keys inserted): {floor:.2f} s")
    print(f"first run (items created):  {first:.2f} s, {first / floor:.1f}x the floor (target <= {RUN_TARGET_RATIO}x)")
    print(f"second run (items linked):  {second:.2f} s, {second / floor:.1f}x the floor")
    print(
        f"item page ({PAGE_SIZE} items of {rule}, region {args.region}): p50 {statistics.median(pages):.1f} ms, "
        f"max {max(pages):.1f} ms (target <= {PAGE_TARGET_MS:.0f} ms)"
    )


if __name__ == "__main__":
    main()
