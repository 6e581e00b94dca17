"""Benchmark: the household-picture query over HTTP against real uvicorn servers, beside its floor.

    .venv/bin/python bench/household.py [--households 20000] [--duration 10] [--workers 2]

Starts a throwaway PostgreSQL server, loads a demo of that many households, registers the query as
an operation (registered/), then serves
(a) the secured hub as deployed (bearer token, purpose, policy with masking, region filter and one
hash-chained audit event per request), asked by the operation's id: its compiled plan (compiled/);
(b) the same secured hub with compiled plans off (AIDGRAPH_COMPILED_PLANS=0): graphql-core's executor;
(c) the open path of the same build (bench/open_app.py: no token, policy or audit), by the executor
and by the compiled plan, and (d) the floor: the same picture built by one hand-written SQL
statement and passed straight through (bench/floor.py), all under the same uvicorn settings. wrk
drives each at concurrency 1 and 16 over random households; the script prints requests/s, p50 and
p99, and the ratios floor/path and path/open measured in this run. Before timing, it checks that
the open hub (both paths) and the floor answer the same JSON for a sample of households, and that
the secured hub answers them the same by both paths, masked.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import httpx2
import orjson
import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY)]

from observed import Collector, observed_environment  # noqa: E402

from adapters import registry  # noqa: E402
from adapters.catalog import DEPARTMENTS  # noqa: E402
from adapters.ingest import ingest_folder  # noqa: E402
from aidgraph.db import create_engine, migrate  # noqa: E402
from tools.demo import generate  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

QUERY = (REPOSITORY / "bench" / "household.graphql").read_text()

LUA = """
local numbers = {%s}
local counter = 0
request = function()
  counter = counter + 1
  local number = numbers[(counter %% #numbers) + 1]
  return wrk.format("POST", "/graphql", {["Content-Type"] = "application/json"%s}, %s .. number .. %s)
end
"""


@dataclass(frozen=True)
class Run:
    requests_per_second: float
    p50_ms: float
    p99_ms: float


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    print("installing wrk (Debian package) for the load ...", flush=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)
    return shutil.which("wrk") or sys.exit("wrk is needed: apt-get install wrk")


def load_demo(url: str, households: int, folder: Path) -> None:
    engine = create_engine(url)
    migrate(engine)
    started = time.perf_counter()
    summary = generate(folder, households=households, seed=0)
    generated = time.perf_counter()
    for name, department in DEPARTMENTS.items():
        ingest_folder(engine, department, folder / name)
    print(
        f"demo: {summary.households} households, {summary.persons} persons; generated in "
        f"{generated - started:.1f} s, ingested in {time.perf_counter() - generated:.1f} s",
        flush=True,
    )
    engine.dispose()


def register_query(url: str) -> str:
    """The benchmark's query as a registered operation for every client: its id."""
    from registered.operations import add_operations

    engine = create_engine(url)
    (registered_query,) = add_operations(engine, QUERY, by="benchmark")
    engine.dispose()
    return registered_query.document_id


def sample_households(url: str, count: int) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        numbers = connection.execute(sa.select(registry.HOUSEHOLDS.table.c.household_number)).scalars().all()
    engine.dispose()
    return random.Random(7).sample(list(numbers), min(count, len(numbers)))


def start_server(
    app: str, port: int, workers: int, env: dict[str, str], *extra: str, log: Path | None = None
) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "uvicorn", app, "--port", str(port), "--workers", str(workers), "--loop", "uvloop",
        "--http", "httptools", "--no-access-log", "--log-level", "warning", *extra,
    ]  # fmt: skip
    stderr = log.open("ab") if log is not None else None
    server = subprocess.Popen(command, env=env, cwd=REPOSITORY, stderr=stderr)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    sys.exit(f"{app} did not start on port {port}")


def body_of(number: str, document_id: str | None) -> dict:
    """The request: the query's text (the executor), or its registered id (the compiled plan)."""
    asked = {"documentId": document_id} if document_id is not None else {"query": QUERY}
    return {**asked, "variables": {"householdNumber": number}}


def answer(port: int, number: str, bearer: str | None = None, document_id: str | None = None) -> dict:
    body = body_of(number, document_id)
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    response = httpx2.post(f"http://127.0.0.1:{port}/graphql", json=body, headers=headers, timeout=10)
    response.raise_for_status()
    answered: dict = response.json()
    return answered


def secured_client(url: str, port: int, *, client_id: str = "bench-civil-affairs", region: str = "3505") -> str:
    """Apply the demo policy, register a civil-affairs client (assistance review) of the region, get its token."""
    from auth.clients import MAX_RATE_LIMIT, register_client
    from auth.demo_access import ensure_demo_policy

    engine = create_engine(url)
    ensure_demo_policy(engine)
    _, secret = register_client(
        engine,
        client_id=client_id,
        department="civil-affairs",
        roles=["civil-affairs"],
        regions=[region],
        purposes=["assistance-review"],
        rate_limit=MAX_RATE_LIMIT,  # far above the few hundred a second it is driven at
    )
    engine.dispose()
    form = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    response = httpx2.post(f"http://127.0.0.1:{port}/oauth/token", data=form, timeout=10)
    response.raise_for_status()
    return str(response.json()["access_token"])


def wrk(
    binary: str,
    port: int,
    numbers: list[str],
    connections: int,
    seconds: int,
    script: Path,
    bearer: str | None,
    document_id: str | None,
) -> Run:
    prefix = orjson.dumps(body_of("@", document_id)).decode().split("@")
    quoted = ", ".join(f'"{number}"' for number in numbers)
    authorization = f', ["Authorization"] = "Bearer {bearer}"' if bearer else ""
    script.write_text(LUA % (quoted, authorization, _lua_string(prefix[0]), _lua_string(prefix[1])))
    threads = str(min(connections, 2))
    command = [binary, "-t", threads, "-c", str(connections), "-d", f"{seconds}s", "--latency", "-s", str(script)]
    output = subprocess.run([*command, f"http://127.0.0.1:{port}/graphql"], capture_output=True, text=True).stdout
    if "Non-2xx" in output or "Socket errors" in output:
        sys.exit(f"wrk saw errors:\n{output}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1])  # type: ignore[index]
    return Run(rate, _percentile(output, "50%"), _percentile(output, "99%"))


def _lua_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _percentile(output: str, label: str) -> float:
    value, unit = re.search(rf"^\s+{label}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE).groups()  # type: ignore[union-attr]
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=20000)
    parser.add_argument("--duration", type=int, default=10, help="seconds per measurement")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument(
        "--observed",
        action="store_true",
        help="also the secured hub with metrics summed across workers, spans exported over OTLP and its JSON "
        "log lines written to a file (bench/observed.py)",
    )
    args = parser.parse_args()

    binary = ensure_wrk()
    postgres = ThrowawayPostgres().start()
    work = Path(tempfile.mkdtemp(prefix="aidgraph-bench-"))
    servers: list[subprocess.Popen[bytes]] = []
    collector = Collector() if args.observed else None
    try:
        url = postgres.create_database("bench")
        load_demo(url, args.households, work / "demo")
        numbers = sample_households(url, 2000)
        query_id = register_query(url)
        secured_port, executor_port, open_port, floor_port = _free_port(), _free_port(), _free_port(), _free_port()
        env = {**os.environ, "AIDGRAPH_DATABASE_URL": url, "FLOOR_DATABASE_URL": url.replace("+psycopg", "")}
        app = "aidgraph.app:app_from_environment"
        servers.append(start_server(app, secured_port, args.workers, env, "--factory"))
        executor_env = {**env, "AIDGRAPH_COMPILED_PLANS": "0"}
        servers.append(start_server(app, executor_port, args.workers, executor_env, "--factory"))
        servers.append(start_server("open_app:app", open_port, args.workers, env, "--factory", "--app-dir", "bench"))
        servers.append(start_server("floor:app", floor_port, args.workers, env, "--app-dir", "bench"))
        bearer = secured_client(url, secured_port)
        paths: list[tuple[str, int, str | None, str | None]] = [
            ("secured", secured_port, bearer, query_id),
            ("executor", executor_port, bearer, None),
            ("open-cmp", open_port, None, query_id),
            ("open", open_port, None, None),
            ("floor", floor_port, None, None),
        ]
        observed_log = work / "observed" / "hub.log"
        if collector is not None:
            observed_env, options = observed_environment(observed_log.parent, collector)
            observed_port = _free_port()
            observed = start_server(app, observed_port, args.workers, {**env, **observed_env}, "--factory", *options,
                                    log=observed_log)  # fmt: skip
            servers.append(observed)
            paths.insert(1, ("observed", observed_port, bearer, query_id))

        for number in numbers[:50]:
            hub, floor = answer(open_port, number), answer(floor_port, number)
            if hub != floor or answer(open_port, number, document_id=query_id) != floor:
                sys.exit(f"hub and floor differ for household {number}:\nhub:   {hub}\nfloor: {floor}")
            secured = answer(secured_port, number, bearer, query_id)
            if "errors" in secured or secured["data"]["household"]["householdNumber"] != number:
                sys.exit(f"the secured hub did not answer household {number}: {secured}")
            if answer(executor_port, number, bearer) != secured:
                sys.exit(f"the compiled plan and the executor answer household {number} differently")
        print("open hub (both paths) and floor answer the same JSON for 50 sampled households; the secured hub "
              "answers them, the same by its compiled plan and by the executor", flush=True)  # fmt: skip

        results: dict[tuple[str, int], Run] = {}
        for connections in (1, 16):
            for name, port, token, document in paths:
                wrk(binary, port, numbers, connections, 2, work / "warm.lua", token, document)  # warm caches, pools
                run = wrk(binary, port, numbers, connections, args.duration, work / "r.lua", token, document)
                results[(name, connections)] = run
        _report(results, args, [name for name, *_ in paths])
        if collector is not None:
            lines = observed_log.read_text(encoding="utf-8").splitlines()
            print(f"observed: {len(lines)} JSON log lines written; {collector.exports} span exports received "
                  f"({collector.bytes / 1e6:.1f} MB)")  # fmt: skip
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=10)
        postgres.stop()
        if collector is not None:
            collector.close()
        shutil.rmtree(work, ignore_errors=True)


def _report(results: dict[tuple[str, int], Run], args: argparse.Namespace, names: list[str]) -> None:
    print(f"\nhousehold picture over HTTP, PostgreSQL, {args.workers} uvicorn workers, {args.duration} s per run")
    print(f"{'path':<9}{'conc.':>6}{'req/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'floor/path':>12}{'cost/open':>11}")
    for connections in (1, 16):
        floor = results[("floor", connections)]
        opened = results[("open", connections)]
        for name in names:
            run = results[(name, connections)]
            ratio = floor.requests_per_second / run.requests_per_second
            cost = opened.requests_per_second / run.requests_per_second
            print(
                f"{name:<9}{connections:>6}{run.requests_per_second:>10.0f}{run.p50_ms:>9.2f}{run.p99_ms:>9.2f}"
                f"{ratio:>11.2f}x{cost:>10.2f}x"
            )
    print("secured: the compiled plan (target at c16: >= 1,000 req/s and floor/path <= 2.5x); executor: the same "
          "hub with compiled plans off; open-cmp: the open path's compiled plan; cost/open: how many times the open "
          "path's throughput a path costs")  # fmt: skip


if __name__ == "__main__":
    main()
