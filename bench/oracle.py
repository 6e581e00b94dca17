"""Benchmark: does the time of a look-up tell a person outside the caller's regions from an id never issued?

    .venv/bin/python bench/oracle.py [--households 2000] [--lookups 300] [--hub DIR]

Starts a throwaway PostgreSQL server, loads a demo of that many households, serves the secured hub
(one uvicorn worker, the limit on missed look-ups raised out of the way) and asks it, as a client of
one county (350583), for a person's whole picture by id: persons of other counties (outside), valid
ids nobody has (never issued) and, for scale, persons of its own county (inside), interleaved in a
random order over one kept-alive connection. Prints the median and p90 time of each kind and the
difference of the two medians that must stay small. `--hub DIR` serves the hub from another checkout
of the repository, to compare with a build before the change.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx2
import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "bench")]

from household import _free_port, load_demo, secured_client, start_server  # noqa: E402

from adapters import idnumber, registry  # noqa: E402
from aidgraph.db import create_engine  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

COUNTY = "350583"
PICTURE = """query Picture($id: String!) { person(idNumber: $id) {
  idNumber name gender birthDate phone relationToHead
  household { householdNumber regionCode address members { idNumber name birthDate phone } }
  civilAffairs { dibao { coverage startDate } } medical { settlements { diagnosisCode outOfPocket } }
  education { enrolments { schoolName } } disability { certificate { category grade } } } }"""


def sample_ids(url: str, count: int) -> dict[str, list[str]]:
    """Persons inside and outside the county, and valid ids that nobody in the store has."""
    persons, households = registry.PERSONS.table, registry.HOUSEHOLDS.table
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sa.select(persons.c.id_number, households.c.region_code).join(
                households, households.c.household_number == persons.c.household_number
            )
        ).all()
    engine.dispose()
    rng = random.Random(9)
    inside = [row.id_number for row in rows if row.region_code.startswith(COUNTY)]
    outside = [row.id_number for row in rows if not row.region_code.startswith(COUNTY)]
    known = {row.id_number for row in rows}
    never: list[str] = []
    while len(never) < count:
        first17 = f"{COUNTY}19{rng.randint(40, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}{rng.randint(100, 999)}"
        candidate = first17 + idnumber.check_char(first17)
        if candidate not in known:
            never.append(candidate)
    return {
        "outside": rng.sample(outside, min(count, len(outside))),
        "never issued": never,
        "inside": rng.sample(inside, min(count, len(inside))),
    }


def measure(port: int, bearer: str, ids: dict[str, list[str]]) -> dict[str, list[float]]:
    """Milliseconds per look-up, by kind; every answer checked to be what its kind must get."""
    asks = [(kind, id_number) for kind, listed in ids.items() for id_number in listed]
    random.Random(11).shuffle(asks)
    times: dict[str, list[float]] = {kind: [] for kind in ids}
    headers = {"Authorization": f"Bearer {bearer}"}
    with httpx2.Client(base_url=f"http://127.0.0.1:{port}", headers=headers, timeout=10) as http:
        for _, id_number in asks[:50]:  # warm the worker's caches and pool
            http.post("/graphql", json={"query": PICTURE, "variables": {"id": id_number}})
        for kind, id_number in asks:
            started = time.perf_counter()
            response = http.post("/graphql", json={"query": PICTURE, "variables": {"id": id_number}})
            elapsed = (time.perf_counter() - started) * 1000
            person = response.json().get("data", {}).get("person")
            if response.status_code != 200 or (person is None) != (kind != "inside"):
                sys.exit(f"unexpected answer for a person {kind}: {response.status_code} {response.text[:300]}")
            times[kind].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=2000)
    parser.add_argument("--lookups", type=int, default=300, help="look-ups of each kind")
    parser.add_argument("--hub", type=Path, default=REPOSITORY, help="the checkout whose hub is served")
    args = parser.parse_args()

    postgres = ThrowawayPostgres().start()
    work = Path(tempfile.mkdtemp(prefix="aidgraph-oracle-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        url = postgres.create_database("bench")
        load_demo(url, args.households, work / "demo")
        ids = sample_ids(url, args.lookups)
        port = _free_port()
        env = {**os.environ, "AIDGRAPH_DATABASE_URL": url, "AIDGRAPH_LOOKUP_MISS_LIMIT": "0"}
        server = start_server(
            "aidgraph.app:app_from_environment", port, 1, env, "--factory", "--app-dir", str(args.hub)
        )
        times = measure(port, secured_client(url, port, client_id="bench-oracle", region=COUNTY), ids)
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=10)
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)

    print(f"\nperson look-ups over HTTP, PostgreSQL, one worker, a client of {COUNTY}, hub from {args.hub}")
    print(f"{'kind':<14}{'count':>7}{'median ms':>11}{'p90 ms':>9}")
    medians = {}
    for kind, measured in times.items():
        medians[kind] = statistics.median(measured)
        p90 = statistics.quantiles(measured, n=10)[-1]
        print(f"{kind:<14}{len(measured):>7}{medians[kind]:>11.2f}{p90:>9.2f}")
    gap = medians["outside"] - medians["never issued"]
    print(f"outside - never issued: {gap:+.2f} ms (median); the two must not be told apart")


if __name__ == "__main__":
    main()
