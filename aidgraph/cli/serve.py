"""`aidgraph serve`: run the hub over HTTP; with `--demo`, on a store set up with the demo data and access."""

from __future__ import annotations

import argparse
import contextlib
import ipaddress
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from aidgraph.cli.context import CommandContext, fail
from aidgraph.cli.ingest import print_reports
from aidgraph.cli.warnings import load_rules
from aidgraph.logs import log_config
from aidgraph.operations_http import MULTIPROCESS_DIRECTORY
from aidgraph.settings import TOKEN_ISSUER_VARIABLE, loopback_issuer, redact

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands
    from casework.warnings.rules import WarningRules


def register(commands: Commands) -> None:
    serve = commands.add_parser("serve", help="run the hub over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument(
        "--demo",
        action="store_true",
        help="on an empty store, generate and ingest demo data; apply the demo policy and register demo clients",
    )
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace, context: CommandContext) -> int:
    settings = context.settings
    loopback = ipaddress.ip_address(_resolve(args.host)).is_loopback
    if not loopback and not settings.token_issuer.startswith("https://"):
        return fail(
            "serve",
            f"refusing to bind {args.host}: client secrets and tokens would cross the network "
            "in clear. Put TLS in front and set AIDGRAPH_TOKEN_ISSUER to its https:// address.",
        )
    if not os.environ.get(TOKEN_ISSUER_VARIABLE):
        # Each worker makes its app from the environment: there, name the address served, as OAuth
        # clients read it from the metadata and compare it with the tokens' iss.
        os.environ[TOKEN_ISSUER_VARIABLE] = loopback_issuer(args.host, args.port)
    engine = context.store()
    if args.demo:
        # The rules file is checked before anything is loaded, as an ingest checks it.
        rules = load_rules(context, "serve")
        if isinstance(rules, int):
            return rules
        _load_demo(engine, Path(os.environ.get("AIDGRAPH_DEMO_DIR", "demo-data")), rules)
        _demo_access(engine)
    engine.dispose()
    import uvicorn

    print(f"aidgraph: store {redact(settings.database_url)}")
    served = loopback_issuer(args.host, args.port)
    print(f"aidgraph: serving on {served}/graphql (POST /oauth/token for an access token)")
    with _metrics_directory(args.workers):
        uvicorn.run(
            "aidgraph.app:app_from_environment",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            access_log=False,  # the hub writes one line per request itself (aidgraph/observed.py)
            log_level="warning",
            log_config=log_config(settings.log_format),
        )
    return 0


@contextlib.contextmanager
def _metrics_directory(workers: int) -> Iterator[None]:
    """Several workers keep their metrics in files of one fresh directory, so that /metrics, answered
    by any of them, sums them all; it is removed when the server stops. One worker keeps them in memory."""
    if workers <= 1:
        yield
        return
    previous = os.environ.get(MULTIPROCESS_DIRECTORY)
    with tempfile.TemporaryDirectory(prefix="aidgraph-metrics-") as directory:
        os.environ[MULTIPROCESS_DIRECTORY] = directory  # the workers inherit it as they start
        try:
            yield
        finally:
            if previous is None:
                os.environ.pop(MULTIPROCESS_DIRECTORY, None)
            else:
                os.environ[MULTIPROCESS_DIRECTORY] = previous


DEMO_CITY = "3505"  # Quanzhou, the demo city


def _load_demo(engine: sa.Engine, folder: Path, rules: WarningRules) -> None:
    from adapters.progress import Progress
    from tools.demo import DEFAULT_HOUSEHOLDS, generate
    from tools.demo.load import ingest_demo, persons_in_store

    people = persons_in_store(engine)
    if people:
        print(f"aidgraph: the store already holds {people} persons; demo data not loaded again")
        return
    print(f"aidgraph: generating demo data ({DEFAULT_HOUSEHOLDS} households) in {folder}/ ...")
    generate(folder, households=DEFAULT_HOUSEHOLDS, seed=0, progress=Progress("demo", unit="households"))
    for loaded in ingest_demo(engine, folder):
        if loaded.reports is None:
            skipped = f"{loaded.department} skipped: the demo has no folder {loaded.folder}/"
            print(f"aidgraph serve: {skipped}", file=sys.stderr)
        else:
            print_reports(loaded.department, loaded.reports)
    _work_the_demo(engine, rules)


def _work_the_demo(engine: sa.Engine, rules: WarningRules) -> None:
    """The demo city's ledger and alerts, as of the demo's day: the comparison over the whole city and the
    early-warning scan, so that a caseworker's queries have something to work on."""
    from aidgraph.cli.comparison import print_counts
    from aidgraph.cli.warnings import print_scan, run_scan
    from casework.comparison.run import run
    from resolvers.rules.regions import Region
    from tools.demo.dates import TODAY

    result = run(engine, region=DEMO_CITY, by="aidgraph serve --demo", as_of=TODAY)
    print(f"aidgraph: comparison run {result.run_id} of the demo city as of {TODAY}:")
    print_counts(result.counts, result.not_evaluated)
    report, _seconds = run_scan(engine, rules, as_of=TODAY, regions=[Region(DEMO_CITY)])
    print_scan(report, what="the demo city")


def _demo_access(engine: sa.Engine) -> None:
    from auth.demo_access import ensure_demo_policy, register_demo_clients

    version = ensure_demo_policy(engine)
    if version is not None:
        print(f"aidgraph: demo policy applied as version {version}")
    registered = register_demo_clients(engine)
    if not registered:
        print("aidgraph: demo clients were registered before (their secrets were printed then)")
    else:
        print("aidgraph: demo clients (secrets are shown this once):")
        for demo, purposes, secret in registered:
            print(f"  {demo.client_id:<26} role {demo.role:<14} regions {','.join(demo.regions):<8} secret {secret}")
            print(f"  {'':<26} purposes {', '.join(purposes)}")
    _demo_people(engine)


def _demo_people(engine: sa.Engine) -> None:
    from auth.demo_access import add_demo_people

    added = add_demo_people(engine)
    if not added:
        print("aidgraph: demo people of the console were added before (their passwords were printed then)")
        return
    print("aidgraph: demo people of the console at /admin (one-time passwords, changed at first sign-in):")
    for person, password in added:
        regions = ",".join(person.regions) or "-"
        print(f"  {person.name:<17} roles {','.join(person.roles):<16} regions {regions:<7} password {password}")


def _resolve(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host
