"""Soak: the secured hub under department clients and one abusive client, while faults are injected.

    .venv/bin/python bench/soak.py [--households 3000] [--workers 2] [--phase 15] [--max-requests 60000]

Starts a throwaway PostgreSQL server on loopback, loads a demo city, serves disability live from a
database of its own (bench/faults.py), and runs the hub as deployed (uvicorn, tokens, the demo
policy, the audit trail). Five department clients ask their usual questions at a steady pace; one
abusive client asks as fast as it can and is given a low request limit. On a fixed timeline it
injects three faults: the live department hanging, the audit trail refusing writes for 10 s, and
the store's server stopped and started again. It prints throughput, p50/p95/p99 per phase, the
answers by status code, and then checks:

- no 5xx answer other than 503, and 503s only while a fault lasts (and a few seconds after);
- the well-behaved clients' p95 outside the restart window stays under 3x its no-fault value
  (measured in the same run, over at least 200 answers), while the abusive client gets 429s;
- the audit chain verifies, and every 200 has its event (each request carries its own X-Case-Id,
  which the event records).
It exits 1 when a check fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx2
import sqlalchemy as sa

REPOSITORY = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPOSITORY), str(REPOSITORY / "bench")]

from faults import LiveDepartment, audit_outage, restart_store  # noqa: E402
from household import QUERY as HOUSEHOLD_PICTURE  # noqa: E402
from household import _free_port, load_demo, start_server  # noqa: E402

from adapters import registry  # noqa: E402
from adapters.catalog import DEPARTMENTS  # noqa: E402
from aidgraph.db import create_engine  # noqa: E402
from auth.audit.verifier import format_report, verify  # noqa: E402
from auth.clients import MAX_RATE_LIMIT, register_client  # noqa: E402
from auth.demo_access import ensure_demo_policy  # noqa: E402
from tools.pgserver import ThrowawayPostgres  # noqa: E402

PERSON_EDUCATION = """query Enrolments($idNumber: String!) { person(idNumber: $idNumber) {
  name education { enrolments { schoolName stage grade term status } aid { term programme amount } } } }"""
PERSON_MEDICAL = """query Settlements($idNumber: String!) { person(idNumber: $idNumber) {
  name medical { settlements { settlementId kind outOfPocket diagnosisCode } } } }"""
PERSON_DISABILITY = """query Certificate($idNumber: String!) { person(idNumber: $idNumber) {
  name disability { certificate { category grade issuedOn validUntil } subsidies { kind monthlyAmount } } } }"""
HOUSEHOLD_POVERTY = """query Monitoring($householdNumber: String!) { household(householdNumber: $householdNumber) {
  address poverty { registeredPoor { registeredYear liftedYear } monitoring { kind riskCauses enteredOn } }
  members { name relationToHead } } }"""
HOUSEHOLD_HOUSING = """query Renovations($householdNumber: String!) { household(householdNumber: $householdNumber) {
  address housing { assessments { grade assessedOn } renovations { kind status } } members { name } } }"""

RESTART_MARGIN = 5.0  # seconds after the store is back during which 503s are still the restart's
FAULT_MARGIN = 3.0  # the same after the other faults


@dataclass(frozen=True)
class Client:
    """A department system: its registration, what it asks, and how hard."""

    client_id: str
    role: str
    purpose: str
    query: str
    variable: str  # idNumber or householdNumber
    keys: str  # which sample of keys it asks about
    concurrency: int
    think_seconds: float
    abusive: bool = False


CLIENTS = (
    Client("soak-civil-affairs", "civil-affairs", "assistance-review", HOUSEHOLD_PICTURE, "householdNumber",
           "households", 2, 0.02),
    Client("soak-education", "education", "student-aid", PERSON_EDUCATION, "idNumber", "students", 1, 0.02),
    Client("soak-medical", "medical", "assistance-review", PERSON_MEDICAL, "idNumber", "patients", 1, 0.02),
    Client("soak-disability", "disability", "assistance-review", PERSON_DISABILITY, "idNumber", "holders", 1, 0.02),
    Client("soak-poverty", "poverty", "comparison", HOUSEHOLD_POVERTY, "householdNumber", "households", 1, 0.02),
    Client("soak-abusive-housing", "housing", "assistance-review", HOUSEHOLD_HOUSING, "householdNumber",
           "households", 6, 0.0, abusive=True),
)  # fmt: skip
WELL_BEHAVED_LIMIT = MAX_RATE_LIMIT  # requests per minute: far above what a steady client sends here
ABUSIVE_LIMIT = 120


@dataclass(frozen=True)
class Answer:
    client: Client
    at: float  # seconds since the load began
    milliseconds: float
    status: int
    case_id: str


@dataclass
class Timeline:
    """When each fault really began and ended, in seconds since the load began."""

    windows: list[tuple[str, float, float]] = field(default_factory=list)

    def fault_during(self, answer: Answer) -> str | None:
        """The fault the request overlapped (sent before it ended, answered after it began), if any."""
        for name, start, end in self.windows:
            margin = RESTART_MARGIN if name == "store restart" else FAULT_MARGIN
            if answer.at <= end + margin and answer.at + answer.milliseconds / 1000 >= start:
                return name
        return None


def sample_keys(url: str, count: int) -> dict[str, list[str]]:
    """Households and persons each client asks about, all inside Quanzhou (the clients' region)."""
    tables = {name: spec.table for department in DEPARTMENTS.values() for spec in department.files
              for name in [spec.table_name]}  # fmt: skip
    queries = {
        "households": sa.select(registry.HOUSEHOLDS.table.c.household_number),
        "students": sa.select(tables["education_enrolment"].c.id_number).distinct(),
        "patients": sa.select(tables["medical_settlement"].c.id_number).distinct(),
        "holders": sa.select(tables["disability_certificate"].c.id_number).distinct(),
    }
    engine = create_engine(url)
    picked = random.Random(11)
    with engine.connect() as connection:
        keys = {name: list(connection.execute(query).scalars()) for name, query in queries.items()}
    engine.dispose()
    return {name: picked.sample(found, min(count, len(found))) for name, found in keys.items()}


def register_clients(url: str) -> dict[str, str]:
    engine = create_engine(url)
    ensure_demo_policy(engine)
    secrets = {}
    for client in CLIENTS:
        _, secrets[client.client_id] = register_client(
            engine, client_id=client.client_id, department=client.role, roles=[client.role],
            regions=["3505"], purposes=[client.purpose],
            rate_limit=ABUSIVE_LIMIT if client.abusive else WELL_BEHAVED_LIMIT,
        )  # fmt: skip
    engine.dispose()
    return secrets


def token(port: int, client: Client, secret: str) -> str:
    form = {"grant_type": "client_credentials", "scope": f"purpose:{client.purpose}"}
    response = httpx2.post(
        f"http://127.0.0.1:{port}/oauth/token", data=form, auth=(client.client_id, secret), timeout=10
    )
    response.raise_for_status()
    return str(response.json()["access_token"])


async def drive(
    port: int, tokens: dict[str, str], keys: dict[str, list[str]], *, seconds: float, max_requests: int
) -> list[Answer]:
    """Every client's loops until the time or the request budget is used up; each answer recorded."""
    answers: list[Answer] = []
    started = time.monotonic()
    budget = iter(range(max_requests))
    limits = httpx2.Limits(max_connections=64, max_keepalive_connections=64)
    async with httpx2.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits, timeout=30) as http:

        async def loop(client: Client, lane: int) -> None:
            picked = random.Random(f"{client.client_id}-{lane}")
            headers = {"Authorization": f"Bearer {tokens[client.client_id]}"}
            while time.monotonic() - started < seconds:
                number = next(budget, None)
                if number is None:
                    return
                case_id = f"soak-{number}"
                body = {"query": client.query, "variables": {client.variable: picked.choice(keys[client.keys])}}
                sent = time.monotonic()
                try:
                    response = await http.post("/graphql", json=body, headers={**headers, "X-Case-Id": case_id})
                    status = response.status_code
                except httpx2.HTTPError:
                    status = 0  # no answer at all: the worst outcome, counted apart
                answers.append(Answer(client, sent - started, (time.monotonic() - sent) * 1000, status, case_id))
                if client.think_seconds:
                    await asyncio.sleep(client.think_seconds)

        await asyncio.gather(*(loop(client, lane) for client in CLIENTS for lane in range(client.concurrency)))
    return answers


async def inject(schedule: list[tuple[float, str, Callable[[], None]]], timeline: Timeline, started: float) -> None:
    for at, name, fault in schedule:
        await asyncio.sleep(max(0.0, at - (time.monotonic() - started)))
        begun = time.monotonic() - started
        print(f"  {begun:6.1f} s  {name} ...", flush=True)
        await asyncio.to_thread(fault)
        ended = time.monotonic() - started
        timeline.windows.append((name, begun, ended))
        print(f"  {ended:6.1f} s  {name} over", flush=True)


def held(context: Callable[[], contextlib.AbstractContextManager[object]], seconds: float) -> Callable[[], None]:
    """A fault that lasts `seconds`: the context is the fault."""

    def run() -> None:
        with context():
            time.sleep(seconds)

    return run


def percentile(values: list[float], share: float) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[round(share * 100) - 1]


def report(answers: list[Answer], timeline: Timeline, seconds: float, baseline_end: float) -> list[str]:
    """Print the figures; return the checks that failed."""
    failures = []
    print(f"\n{len(answers)} answers in {seconds:.0f} s: {len(answers) / seconds:.0f} per second")
    print(f"{'client':<22}{'answers':>8}  statuses")
    for client in CLIENTS:
        mine = [answer for answer in answers if answer.client is client]
        statuses = Counter(answer.status for answer in mine)
        listed = ", ".join(f"{status}: {count}" for status, count in sorted(statuses.items()))
        print(f"{client.client_id:<22}{len(mine):>8}  {listed}")

    well = [answer for answer in answers if not answer.client.abusive]
    phases: dict[str, list[Answer]] = {}
    for answer in well:
        phase = timeline.fault_during(answer) or ("no fault" if answer.at < baseline_end else "between faults")
        phases.setdefault(phase, []).append(answer)
    print(
        f"\nwell-behaved clients by phase\n{'phase':<18}{'answers':>8}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}  statuses"
    )
    for phase, found in phases.items():
        times = [answer.milliseconds for answer in found]
        counted = ", ".join(f"{s}: {n}" for s, n in sorted(Counter(a.status for a in found).items()))
        print(f"{phase:<18}{len(found):>8}{percentile(times, 0.5):>9.1f}{percentile(times, 0.95):>9.1f}"
              f"{percentile(times, 0.99):>9.1f}  {counted}")  # fmt: skip

    quiet = [answer.milliseconds for answer in phases.get("no fault", [])]
    faulted = [a.milliseconds for a in well if a.at >= baseline_end and timeline.fault_during(a) != "store restart"]
    if len(quiet) < 200 or len(faulted) < 200:
        failures.append(f"too few answers to compare p95 ({len(quiet)} without faults, {len(faulted)} with)")
    else:
        ratio = percentile(faulted, 0.95) / percentile(quiet, 0.95)
        print(f"\np95 outside the restart window: {percentile(faulted, 0.95):.1f} ms, "
              f"{ratio:.2f}x the no-fault p95 of {percentile(quiet, 0.95):.1f} ms (target < 3x)")  # fmt: skip
        if ratio >= 3:
            failures.append(f"well-behaved p95 rose {ratio:.2f}x under faults")

    abusive = [answer for answer in answers if answer.client.abusive]
    throttled = sum(answer.status == 429 for answer in abusive)
    print(f"abusive client: {len(abusive)} requests, {throttled} answered 429")
    if not throttled:
        failures.append("the abusive client was never throttled")
    unexpected = [a for a in answers if a.status >= 500 and a.status != 503 or a.status == 0]
    stray = [a for a in answers if a.status == 503 and timeline.fault_during(a) is None]
    print(f"5xx other than 503 (or no answer): {len(unexpected)}; 503 outside a fault: {len(stray)}")
    if unexpected:
        failures.append(f"{len(unexpected)} answers were a 5xx other than 503, or none")
    if stray:
        failures.append(f"{len(stray)} answers were 503 while no fault lasted")
    return failures


def audited(url: str, answers: list[Answer], timeline: Timeline) -> list[str]:
    """The chain verifies, and every 200 has its event (found by its case id)."""
    engine = create_engine(url)
    checked = verify(engine)
    print(f"\naudit chain: {format_report(checked).splitlines()[0]}")
    with engine.connect() as connection:
        rows = connection.execute(sa.text("SELECT case_id FROM audit_event WHERE outcome IN ('ok', 'partial')"))
        recorded = {row.case_id for row in rows}
    engine.dispose()
    answered = [answer.case_id for answer in answers if answer.status == 200]
    missing = [case for case in answered if case not in recorded]
    print(f"200 answers: {len(answered)}; without their audit event: {len(missing)}")
    if missing:
        unrecorded = {answer.case_id for answer in answers if answer.case_id in set(missing)}
        phases = Counter(timeline.fault_during(a) or "no fault" for a in answers if a.case_id in unrecorded)
        print("  of them, by phase: " + ", ".join(f"{phase}: {count}" for phase, count in phases.items()))
    failures = [] if checked.ok else ["the audit chain does not verify"]
    if missing:
        failures.append(f"{len(missing)} answers were sent without their audit event")
    return failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--phase", type=float, default=15.0, help="seconds of each phase")
    parser.add_argument("--max-requests", type=int, default=60_000)
    args = parser.parse_args()

    postgres = ThrowawayPostgres().start()
    work = Path(tempfile.mkdtemp(prefix="aidgraph-soak-"))
    server: subprocess.Popen[bytes] | None = None
    try:
        url = postgres.create_database("soak")
        load_demo(url, args.households, work / "demo")
        live = LiveDepartment(postgres, work / "demo" / "disability")
        sources = live.sources_file(work / "sources.yaml", timeout_seconds=1.0)
        secrets = register_clients(url)
        keys = sample_keys(url, 500)
        port = _free_port()
        env = {**os.environ, "AIDGRAPH_DATABASE_URL": url, "AIDGRAPH_SOURCES": str(sources)}
        hub_log = work / "hub.log"  # the hub's own lines (the faults make it write many), counted below
        server = start_server("aidgraph.app:app_from_environment", port, args.workers, env, "--factory", log=hub_log)
        tokens = {client.client_id: token(port, client, secrets[client.client_id]) for client in CLIENTS}

        phase = args.phase
        schedule = [
            (2 * phase, "department hanging", held(live.hanging, phase)),
            (4 * phase, "audit trail failing", held(lambda: audit_outage(url), 10.0)),
            (5 * phase + 10, "store restart", lambda: restart_store(postgres, down_seconds=5.0)),
        ]
        seconds = 7 * phase + 10
        timeline = Timeline()
        print(f"soak: {len(CLIENTS)} clients, {seconds:.0f} s, {args.workers} workers; faults:", flush=True)

        async def run() -> list[Answer]:
            started = time.monotonic()
            load = asyncio.create_task(drive(port, tokens, keys, seconds=seconds, max_requests=args.max_requests))
            await inject(schedule, timeline, started)
            return await load

        answers = asyncio.run(run())
        failures = report(answers, timeline, seconds, baseline_end=2 * phase)
        failures += audited(url, answers, timeline)
        logged = hub_log.read_text(encoding="utf-8", errors="replace").splitlines()
        print(f"the hub wrote {len(logged)} log lines ({hub_log.stat().st_size / 1e6:.1f} MB), tracebacks included")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=15)
        postgres.stop()
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print("\nFAILED:\n  " + "\n  ".join(failures))
        sys.exit(1)
    print("\nall checks passed")


if __name__ == "__main__":
    main()
