"""Benchmark: `ingest all` of a generated demo into PostgreSQL, beside a plain COPY of the same files as its floor.

    .venv/bin/python bench/ingest.py [--households 20000] [--out DIR]

Generates a demo of that many households (the ~1M-person demo is about 330,000), starts a throwaway
PostgreSQL server and measures, in the same run:

(a) the hub's import into a freshly migrated store (every department in one transaction: read,
    validate and translate every row, COPY into staging, set-based upserts, the run recorded),
    then the same import again (every record unchanged: the snapshot comparison alone);
(b) the same rows read, validated and translated with no database (the share done in Python);
(c) the floor: each file's bytes streamed by one `COPY … FROM STDIN (FORMAT csv, HEADER)` into a
    table of text columns named like its header, in a database that checks no encoding; the least
    any import of these rows into PostgreSQL can cost.

It prints rows, seconds and rows/s of each, and the ratio import/floor.
"""

from __future__ import annotations

import argparse
import csv
import shutil
import sys
import tempfile
import time
from pathlib import Path

import psycopg

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from adapters.base import RowError  # noqa: E402
from adapters.catalog import DEPARTMENTS  # noqa: E402
from adapters.csvfiles import read_cells  # noqa: E402
from adapters.ingest import ingest  # noqa: E402
from aidgraph.db import create_engine, migrate  # noqa: E402
from tools.demo import generate  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402


def _hub(url: str, demo: Path) -> list[tuple[str, int, float]]:
    engine = create_engine(url)
    migrate(engine)
    exports = [(department, demo / name) for name, department in DEPARTMENTS.items()]
    timings = []
    for label in ("import (empty store)", "import again (unchanged)"):
        started = time.perf_counter()
        outcome = ingest(engine, exports)
        elapsed = time.perf_counter() - started
        assert outcome.committed, [file.error for report in outcome.departments for file in report.files]
        rows = sum(file.read for report in outcome.departments for file in report.files)
        timings.append((label, rows, elapsed))
    engine.dispose()
    return timings


def _parse_only(demo: Path) -> tuple[str, int, float]:
    """Reading, validating and translating every row, with no database: the share of the import done in Python."""
    rows = 0
    started = time.perf_counter()
    for name, department in DEPARTMENTS.items():
        for spec in department.files:
            for row in read_cells(demo / name / spec.file_name, spec, department.encoding):
                rows += 1
                if row.values is not None:
                    try:
                        spec.parse_cells(row.values)
                    except RowError:
                        pass
    return "rows parsed, no database", rows, time.perf_counter() - started


def _libpq(url: str) -> str:
    return url.replace("postgresql+psycopg://", "postgresql://")


def _floor(server: ThrowawayPostgres, demo: Path) -> tuple[str, int, float]:
    with psycopg.connect(_libpq(server.admin_url), autocommit=True) as admin:
        admin.execute("CREATE DATABASE floor ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0")
    rows = 0
    with psycopg.connect(_libpq(server.url("floor"))) as connection:
        files = sorted(path for name in DEPARTMENTS for path in (demo / name).glob("*.csv"))
        for number, path in enumerate(files):
            with path.open("rb") as handle:
                header = next(csv.reader([handle.readline().decode("utf-8-sig", errors="replace")]))
            columns = ", ".join(f'"{name.strip()}" text' for name in header)
            connection.execute(f"CREATE TABLE floor_{number} ({columns})")
        connection.commit()
        started = time.perf_counter()
        with connection.transaction():
            for number, path in enumerate(files):
                with connection.cursor() as cursor:
                    with cursor.copy(f"COPY floor_{number} FROM STDIN (FORMAT csv, HEADER)") as copy:
                        with path.open("rb") as handle:
                            while chunk := handle.read(1 << 20):
                                copy.write(chunk)
                    rows += cursor.rowcount
        elapsed = time.perf_counter() - started
    return "floor: plain COPY", rows, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20_000)
    parser.add_argument("--out", type=Path, help="keep the demo here (default: a temporary folder, removed)")
    args = parser.parse_args()
    folder = args.out or Path(tempfile.mkdtemp(prefix="aidgraph-bench-ingest-"))
    demo = folder / "demo"
    try:
        if not (demo / "manifest.json").exists():
            started = time.perf_counter()
            generate(demo, households=args.households, seed=0)
            print(f"demo of {args.households} households generated in {time.perf_counter() - started:.1f} s")
        server = ThrowawayPostgres().start()
        try:
            results = _hub(server.create_database("hub"), demo)
            results.append(_parse_only(demo))
            results.append(_floor(server, demo))
        finally:
            server.stop()
    finally:
        if args.out is None:
            shutil.rmtree(folder, ignore_errors=True)
    print(f"{'':<28}{'rows':>10}{'seconds':>10}{'rows/s':>10}")
    for label, rows, elapsed in results:
        print(f"{label:<28}{rows:>10}{elapsed:>10.1f}{rows / elapsed:>10.0f}")
    floor = results[-1][2]
    print(f"import / floor: {results[0][2] / floor:.1f}x  (unchanged re-import / floor: {results[1][2] / floor:.1f}x)")


if __name__ == "__main__":
    main()
