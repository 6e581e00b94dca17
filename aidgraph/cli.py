"""The `aidgraph` console command: demo data, ingest, rejected rows, schema export, clients, keys, serve."""

from __future__ import annotations

import argparse
import ipaddress
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from adapters import store
from adapters.catalog import DEPARTMENTS, department
from adapters.csvfiles import FileError
from adapters.ingest import FileReport, ingest_folder
from aidgraph.db import create_engine, migrate
from aidgraph.settings import Settings, redact
from auth.clients import ClientError, disable_client, list_clients, register_client
from auth.server.keystore import rotate_ring

DEMO_HOUSEHOLDS = 3000


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_environment()
    return int(args.run(args, settings) or 0)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aidgraph", description=__doc__)
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    demo = commands.add_parser("demo", help="write demo department exports as CSV folders DIR/<department>/")
    demo.add_argument("--out", type=Path, required=True, metavar="DIR")
    demo.add_argument("--households", type=int, default=DEMO_HOUSEHOLDS, metavar="N")
    demo.add_argument("--seed", type=int, default=0, metavar="S")
    demo.set_defaults(run=_demo)

    ingest = commands.add_parser("ingest", help="import a department's CSV folder into the store")
    ingest.add_argument("department", metavar="DEPARTMENT", help=f"one of {', '.join(DEPARTMENTS)}, or 'all'")
    ingest.add_argument("folder", type=Path, metavar="FOLDER", help="for 'all': the folder holding <department>/")
    ingest.set_defaults(run=_ingest)

    rejected = commands.add_parser("rejected", help="list the rows ingest rejected, with file, line and reason")
    rejected.add_argument("--department")
    rejected.set_defaults(run=_rejected)

    export = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    export.set_defaults(run=_schema)

    migrate_command = commands.add_parser("migrate", help="bring the store to the newest schema")
    migrate_command.set_defaults(run=lambda _args, settings: _open_store(settings) and 0)

    _add_client_commands(commands)
    _add_key_commands(commands)

    serve = commands.add_parser("serve", help="run the hub over HTTP")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1)
    serve.add_argument("--demo", action="store_true", help="on an empty store, generate and ingest demo data")
    serve.set_defaults(run=_serve)
    return parser


def _add_client_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    clients = commands.add_parser("clients", help="register, list and disable client systems")
    actions = clients.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a client and print its secret (once)")
    add.add_argument("client_id", metavar="CLIENT_ID")
    add.add_argument("--department", required=True, metavar="D")
    add.add_argument("--roles", required=True, type=_comma_list, metavar="R1,R2")
    add.add_argument("--regions", required=True, type=_comma_list, metavar="3505,350583")
    add.add_argument("--purposes", required=True, type=_comma_list, metavar="P1,P2")
    add.set_defaults(run=_clients_add)

    listing = actions.add_parser("list", help="list the registered clients")
    listing.set_defaults(run=_clients_list)

    disable = actions.add_parser("disable", help="refuse a client's secret and its tokens from now on")
    disable.add_argument("client_id", metavar="CLIENT_ID")
    disable.set_defaults(run=_clients_disable)


def _add_key_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    keys = commands.add_parser("keys", help="the access-token signing keys")
    actions = keys.add_subparsers(required=True, metavar="ACTION")
    rotate = actions.add_parser("rotate", help="start signing with a new key; the old one stays published a while")
    rotate.set_defaults(run=_keys_rotate)


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


def _open_store(settings: Settings) -> sa.Engine:
    engine = create_engine(settings.database_url)
    migrate(engine)
    return engine


def _demo(args: argparse.Namespace, _settings: Settings) -> int:
    from aidgraph.demo import generate

    summary = generate(args.out, households=args.households, seed=args.seed)
    print(f"wrote {summary.households} households, {summary.persons} persons to {args.out}/<department>/")
    print(f"{summary.bad_rows} deliberately bad rows are listed in {args.out / 'manifest.json'}")
    return 0


def _ingest(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_store(settings)
    names = list(DEPARTMENTS) if args.department == "all" else [args.department]
    failed = False
    for name in names:
        try:
            spec = department(name)
        except KeyError as error:
            print(f"aidgraph ingest: {error.args[0]}", file=sys.stderr)
            return 2
        folder = args.folder / name if args.department == "all" else args.folder
        try:
            reports = ingest_folder(engine, spec, folder)
        except FileError as error:
            print(f"aidgraph ingest: {error}", file=sys.stderr)
            return 2
        _print_reports(name, reports)
        failed = failed or any(
            report.error and report.read == 0 and "not present" not in report.error for report in reports
        )
    return 1 if failed else 0


def _print_reports(name: str, reports: list[FileReport]) -> None:
    print(f"{name}:")
    print(f"  {'file':<16}{'read':>9}{'accepted':>10}{'rejected':>10}{'changed':>9}")
    for report in reports:
        if report.error:
            print(f"  {report.file:<16}  {report.error}")
        else:
            print(f"  {report.file:<16}{report.read:>9}{report.accepted:>10}{report.rejected:>10}{report.changed:>9}")


def _rejected(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_store(settings)
    with engine.connect() as connection:
        rows = store.rejections(connection, department=args.department)
    for row in rows:
        print(f"{row['department']}/{row['file']}:{row['line']}: {row['reason']}")
    print(f"{len(rows)} rejected rows", file=sys.stderr)
    return 0


def _schema(_args: argparse.Namespace, _settings: Settings) -> int:
    import schema

    sys.stdout.write(schema.sdl())
    return 0


def _clients_add(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_store(settings)
    try:
        client, secret = register_client(
            engine,
            client_id=args.client_id,
            department=args.department,
            roles=args.roles,
            regions=args.regions,
            purposes=args.purposes,
        )
    except ClientError as error:
        print(f"aidgraph clients add: {error}", file=sys.stderr)
        return 2
    print(f"registered client {client.client_id} ({client.department})")
    print(f"  roles:    {', '.join(client.roles)}")
    print(f"  regions:  {', '.join(client.regions)}")
    print(f"  purposes: {', '.join(client.purposes)}")
    print(f"client secret: {secret}")
    print("Keep the secret now: the hub stores only a hash of it and will not show it again.")
    return 0


def _clients_list(_args: argparse.Namespace, settings: Settings) -> int:
    clients = list_clients(_open_store(settings))
    print(f"{'client':<28}{'department':<16}{'status':<10}{'regions':<16}{'roles':<28}purposes")
    for client in clients:
        status = "disabled" if client.disabled else "enabled"
        print(
            f"{client.client_id:<28}{client.department:<16}{status:<10}{','.join(client.regions):<16}"
            f"{','.join(client.roles):<28}{','.join(client.purposes)}"
        )
    print(f"{len(clients)} clients", file=sys.stderr)
    return 0


def _clients_disable(args: argparse.Namespace, settings: Settings) -> int:
    try:
        disable_client(_open_store(settings), args.client_id)
    except ClientError as error:
        print(f"aidgraph clients disable: {error}", file=sys.stderr)
        return 2
    print(f"client {args.client_id} disabled: its secret is refused now, its tokens within seconds")
    return 0


def _keys_rotate(_args: argparse.Namespace, settings: Settings) -> int:
    ring = rotate_ring(_open_store(settings))
    older = len(ring.keys) - 1
    print(f"signing with new key {ring.current.kid} as each worker reloads (within a minute)")
    print(f"{older} older key(s) stay published until the tokens they signed have expired")
    return 0


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    if not ipaddress.ip_address(_resolve(args.host)).is_loopback:
        print(
            f"aidgraph serve: refusing to bind {args.host}: until access control is in place the hub "
            "serves only this machine (127.0.0.1)",
            file=sys.stderr,
        )
        return 2
    engine = _open_store(settings)
    if args.demo:
        _load_demo(engine, Path(os.environ.get("AIDGRAPH_DEMO_DIR", "demo-data")))
    engine.dispose()
    import uvicorn

    print(f"aidgraph: store {redact(settings.database_url)}")
    print(f"aidgraph: serving on http://{args.host}:{args.port}/graphql (this machine only: no access control yet)")
    uvicorn.run(
        "aidgraph.app:app_from_environment",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        access_log=False,
        log_level="warning",
    )
    return 0


def _load_demo(engine: sa.Engine, folder: Path) -> None:
    from adapters import registry
    from aidgraph.demo import generate

    with engine.connect() as connection:
        people = connection.execute(sa.select(sa.func.count()).select_from(registry.PERSONS.table)).scalar_one()
    if people:
        print(f"aidgraph: the store already holds {people} persons; demo data not loaded again")
        return
    print(f"aidgraph: generating demo data ({DEMO_HOUSEHOLDS} households) in {folder}/ ...")
    generate(folder, households=DEMO_HOUSEHOLDS, seed=0)
    for name, spec in DEPARTMENTS.items():
        _print_reports(name, ingest_folder(engine, spec, folder / name))


def _resolve(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host


if __name__ == "__main__":
    raise SystemExit(main())
