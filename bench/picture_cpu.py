"""Benchmark: the CPU one household picture costs in process, by the executor, by the compiled plan, and its fetch.

    .venv/bin/python bench/picture_cpu.py [--households 3000] [--pictures 200] [--rounds 6]

Starts a throwaway PostgreSQL, loads a demo, then answers the benchmark's query
(bench/household.graphql) for random households of one county, with the demo policy's view of a
civil-affairs client, with no HTTP, token or audit: (a) by graphql-core's executor
(`schema.execute`), (b) by the compiled plan (compiled/), and (c) only the reads both make (the
look-up and the prefetched batch), the floor of this process's part. Each figure is this process's
CPU time (`time.process_time`: PostgreSQL's own work is another process's), the best of the rounds,
the three paths taking turns in each round: on a machine shared with other work, the best round is
the one least disturbed. Before timing, both paths must give the same answer for every household.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "bench")]

from household import QUERY, load_demo  # noqa: E402

from adapters.catalog import DEPARTMENTS  # noqa: E402
from aidgraph.db import create_engine  # noqa: E402
from auth.access import Access, access_for  # noqa: E402
from auth.demo_access import ensure_demo_policy  # noqa: E402
from auth.policy_store import PolicyCache  # noqa: E402
from auth.principal import Principal  # noqa: E402
from compiled.plans import CompiledPlans  # noqa: E402
from resolvers.context import Context  # noqa: E402
from resolvers.lookups import locate_household  # noqa: E402
from resolvers.prefetch import prefetch  # noqa: E402
from schema import create_schema  # noqa: E402
from schema.analysis import analyse  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

COUNTY = "3505"
CLIENT = Principal(
    client_id="bench-civil-affairs",
    department="civil-affairs",
    roles=frozenset({"civil-affairs"}),
    regions=(COUNTY,),
    purposes=frozenset({"assistance-review"}),
    token_purposes=frozenset({"assistance-review"}),
    pseudonym_key=b"bench" * 8,
)


class Pictures:
    """The three ways of making one picture, over one engine and the live policy."""

    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)
        ensure_demo_policy(self.engine)
        policy = PolicyCache(self.engine).current()
        assert policy is not None
        self._policy = policy
        self._schema = create_schema()
        self._plans = CompiledPlans(self._schema)
        self._analysis = analyse(self._schema, QUERY, None)
        plan = self._plans.plan("sha256:bench", QUERY, None)
        assert plan is not None, "the benchmark's query is not compiled"
        self._plan = plan

    def _context(self) -> Context:
        access: Access = access_for(CLIENT, "assistance-review", self._policy)
        return Context.create(self.engine, {}, list(DEPARTMENTS), access, analysis=self._analysis)

    async def executor(self, number: str) -> Any:
        context = self._context()
        try:
            context.connection()
            result = await self._schema.execute(
                QUERY, variable_values={"householdNumber": number}, context_value=context
            )
            return result.data, result.errors
        finally:
            context.connection.close()

    async def compiled(self, number: str) -> Any:
        context = self._context()
        try:
            context.connection()
            result = await self._plans.execute(self._plan, context, {"householdNumber": number})
            assert result is not None
            return result.data, result.errors
        finally:
            context.connection.close()

    async def fetch(self, number: str) -> Any:
        context = self._context()
        try:
            found = await locate_household(context, number, entry_point="household")
            assert found is not None
            await prefetch(context, self._analysis.plan("household"), [found], "household_number")
            return None
        finally:
            context.connection.close()


def households_of_county(url: str, count: int) -> list[str]:
    import sqlalchemy as sa

    from adapters import registry

    engine = create_engine(url)
    table = registry.HOUSEHOLDS.table
    with engine.connect() as connection:
        numbers = connection.execute(
            sa.select(table.c.household_number).where(table.c.region_code.like(COUNTY + "%"))
        ).scalars()
        found = list(numbers)
    engine.dispose()
    return random.Random(7).sample(found, min(count, len(found)))


async def measure(pictures: Pictures, numbers: list[str], rounds: int) -> dict[str, float]:
    for number in numbers:  # warm: the same answers by both paths, and every cache filled
        if await pictures.executor(number) != await pictures.compiled(number):
            sys.exit(f"the executor and the compiled plan answer household {number} differently")
        await pictures.fetch(number)
    best: dict[str, float] = {}
    for _ in range(rounds):
        for name in ("executor", "compiled", "fetch"):
            make = getattr(pictures, name)
            started = time.process_time()
            for number in numbers:
                await make(number)
            spent = (time.process_time() - started) / len(numbers) * 1000
            best[name] = min(best.get(name, spent), spent)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--pictures", type=int, default=200, help="households per round")
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()
    postgres = ThrowawayPostgres().start()
    work = Path(tempfile.mkdtemp(prefix="aidgraph-bench-"))
    try:
        url = postgres.create_database("bench")
        load_demo(url, args.households, work / "demo")
        pictures = Pictures(url)
        best = asyncio.run(measure(pictures, households_of_county(url, args.pictures), args.rounds))
        pictures.engine.dispose()
    finally:
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"\nCPU of this process per household picture, PostgreSQL, best of {args.rounds} rounds")
    print(f"{'path':<10}{'ms':>8}{'/ fetch':>10}")
    for name in ("executor", "compiled", "fetch"):
        print(f"{name:<10}{best[name]:>8.3f}{best[name] / best['fetch']:>9.2f}x")
    beyond = (best["executor"] - best["fetch"]) / (best["compiled"] - best["fetch"])
    print(f"the compiled plan costs {best['executor'] / best['compiled']:.2f}x less than the executor; "
          f"beyond the fetch, {beyond:.2f}x less")  # fmt: skip


if __name__ == "__main__":
    main()
