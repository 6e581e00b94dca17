"""The `aidgraph` console command: demo data, ingest, rejected rows, schema, clients, keys, policy, audit, serve."""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import sqlalchemy as sa

from adapters import store
from adapters.catalog import DEPARTMENTS, department
from adapters.csvfiles import FileError
from adapters.divisions import prefix_of
from adapters.ingest import FileReport, ingest_folder
from aidgraph.db import create_engine, migrate
from aidgraph.settings import Settings, redact
from auth.access import Access
from auth.audit import format_report, verify
from auth.clients import ClientError, disable_client, list_clients, register_client
from auth.policy import CompiledPolicy, PolicyError
from auth.policy_store import apply_audited_policy, stored_policy
from auth.server.keystore import rotate_ring

DEMO_HOUSEHOLDS = 3000


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = Settings.from_environment()
    try:
        return int(args.run(args, settings) or 0)
    finally:
        while _opened:
            _opened.pop().dispose()


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

    _add_student_commands(commands)
    _add_policy_commands(commands)
    _add_audit_commands(commands)
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


def _add_student_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    students_command = commands.add_parser("students", help="proactive student aid: the eligible students of a term")
    actions = students_command.add_subparsers(required=True, metavar="ACTION")
    export = actions.add_parser("export", help="write every eligible student of a term (CSV or NDJSON), audited")
    export.add_argument("--region", required=True, metavar="R", help="division code or prefix, e.g. 3505")
    export.add_argument("--term", required=True, metavar="T", help="e.g. 2026-2027-1")
    export.add_argument("--format", choices=("csv", "ndjson"), default="csv")
    export.add_argument("--stage", help="only this stage, e.g. PRIMARY")
    export.add_argument("--client", metavar="CLIENT_ID", help="export as this client sees it (default: the operator)")
    export.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
    export.set_defaults(run=_students_export)
    notify_command = actions.add_parser(
        "notify", help="compare each webhook subscription's eligible students with the last run; queue the changes"
    )
    notify_command.add_argument("--term", required=True, metavar="T")
    notify_command.set_defaults(run=_students_notify)
    _add_webhook_commands(commands)


def _add_webhook_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    webhooks = commands.add_parser("webhooks", help="change notifications to client systems (student aid)")
    actions = webhooks.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="subscribe a client's URL; prints the signing secret once")
    add.add_argument("client_id", metavar="CLIENT_ID")
    add.add_argument("url", metavar="URL")
    add.add_argument("--terms", required=True, type=_comma_list, metavar="T1,T2")
    add.add_argument("--regions", type=_comma_list, metavar="R1,R2", help="within the client's regions")
    add.add_argument("--no-announce-existing", action="store_true", help="first run records, announces nothing")
    add.add_argument("--allow-http", action="store_true", help="plain http (only for a receiver on this machine)")
    add.set_defaults(run=_webhooks_add)
    listing = actions.add_parser("list", help="the subscriptions (never their secrets)")
    listing.set_defaults(run=_webhooks_list)
    log = actions.add_parser("log", help="deliveries and their attempts, newest first")
    log.add_argument("--subscription", metavar="SUB_ID")
    log.add_argument("--status", choices=("pending", "delivered", "failed"))
    log.add_argument("--limit", type=int, default=50)
    log.set_defaults(run=_webhooks_log)
    deliver = actions.add_parser("deliver", help="send the deliveries that are due, once (the server does it itself)")
    deliver.set_defaults(run=_webhooks_deliver)


def _students_export(args: argparse.Namespace, settings: Settings) -> int:
    from adapters.students import term_start
    from aidgraph.students_export import encode, export_rows

    try:
        term_start(args.term)
    except ValueError as error:
        print(f"aidgraph students export: term: {error}", file=sys.stderr)
        return 2
    if not (2 <= len(args.region) <= 12 and args.region.isdigit()):
        print(f"aidgraph students export: region {args.region!r} is not a division code or prefix", file=sys.stderr)
        return 2
    engine = _open_store(settings)
    access = _export_access(engine, args.client)
    if isinstance(access, str):
        print(f"aidgraph students export: {access}", file=sys.stderr)
        return 2
    region = prefix_of(args.region)
    operation = "students export (cli)"
    rows = export_rows(engine, access, term=args.term, region=region, stage=args.stage, operation=operation)
    out = args.out.open("wb") if args.out else sys.stdout.buffer
    try:
        for chunk in encode(rows, args.format):
            out.write(chunk)
    finally:
        if args.out:
            out.close()
    return 0


def _students_notify(args: argparse.Namespace, settings: Settings) -> int:
    from notify.changes import DetectionConflict, detect_changes
    from notify.subscriptions import SubscriptionError

    try:
        report = detect_changes(_open_store(settings), term=args.term)
    except SubscriptionError as error:
        print(f"aidgraph students notify: {error}", file=sys.stderr)
        return 2
    except DetectionConflict as error:
        print(f"aidgraph students notify: {error}", file=sys.stderr)
        return 1
    for item in report.subscriptions:
        if item.skipped:
            print(f"{item.subscription_id} ({item.client_id}): skipped: {item.skipped}")
            continue
        print(
            f"{item.subscription_id} ({item.client_id}): {item.current} eligible now; queued {item.eligible} newly "
            f"eligible, {item.no_longer_eligible} no longer eligible{' (first run)' if item.first else ''}"
        )
    print(f"{report.enqueued} notifications queued for term {report.term}")
    return 0


def _webhooks_add(args: argparse.Namespace, settings: Settings) -> int:
    from notify.subscriptions import SubscriptionError, subscribe

    try:
        subscription, secret = subscribe(
            _open_store(settings),
            client_id=args.client_id,
            url=args.url,
            terms=args.terms,
            regions=args.regions,
            announce_existing=not args.no_announce_existing,
            allow_http=args.allow_http,
        )
    except SubscriptionError as error:
        print(f"aidgraph webhooks add: {error}", file=sys.stderr)
        return 2
    print(f"subscription {subscription.subscription_id} for {subscription.client_id}: {subscription.url}")
    print(f"  terms: {', '.join(subscription.terms)}")
    print(f"signing secret: {secret}")
    print("Keep the secret now: it will not be shown again (see docs/notifications.md to verify signatures).")
    return 0


def _webhooks_list(_args: argparse.Namespace, settings: Settings) -> int:
    from notify.subscriptions import list_subscriptions

    for item in list_subscriptions(_open_store(settings)):
        state = "active" if item.active else "disabled"
        print(f"{item.subscription_id}  {item.client_id:<24} {state:<9} {','.join(item.terms):<24} {item.url}")
    return 0


def _webhooks_log(args: argparse.Namespace, settings: Settings) -> int:
    from notify.log import delivery_log

    entries = delivery_log(
        _open_store(settings), subscription_id=args.subscription, status=args.status, limit=args.limit
    )
    for entry in entries:
        print(
            f"{entry.delivery_id:>8} {entry.event_id} {entry.event_type:<28} {entry.term} {entry.status:<9} "
            f"attempts {entry.attempts}"
        )
    return 0


def _webhooks_deliver(_args: argparse.Namespace, settings: Settings) -> int:
    from notify.delivery import deliver_due, http_client

    with http_client() as http:
        report = deliver_due(_open_store(settings), http=http)
    print(f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}")
    return 0


def _export_access(engine: sa.Engine, client_id: str | None) -> Access | str:
    """The access an export runs with: a registered client's (purpose student-aid), or the operator's
    (role student-aid, every region) under the current policy; a reason string when there is none."""
    from auth.access import EVERYWHERE
    from auth.clients import load_client

    with engine.connect() as connection:
        current = stored_policy(connection)
    if current is None:
        return "no access policy has been applied (aidgraph policy apply FILE)"
    compiled = CompiledPolicy(current.policy, current.version)
    if client_id is None:
        view = compiled.view(frozenset({"student-aid"}), "student-aid")
        return Access(view=view, regions=EVERYWHERE, purpose="student-aid", policy_version=current.version)
    client = load_client(engine, client_id)
    if client is None or client.disabled or "student-aid" not in client.purposes:
        return f"client {client_id!r} is not registered, disabled, or not allowed the purpose student-aid"
    principal = client.principal(token_purposes=["student-aid"])
    view = compiled.view(principal.roles, "student-aid")
    return Access(
        view=view, regions=client.regions, principal=principal, purpose="student-aid", policy_version=current.version
    )


def _add_policy_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    policy = commands.add_parser("policy", help="the access policy: apply a YAML file as a new version, export it")
    actions = policy.add_subparsers(required=True, metavar="ACTION")
    apply = actions.add_parser("apply", help="check a YAML policy and make it the current version")
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who applies it (for the audit)")
    apply.set_defaults(run=_policy_apply)
    dry = actions.add_parser("dry-run", help="show what a client would receive for a query under a policy file")
    dry.add_argument("file", type=Path, metavar="FILE")
    dry.add_argument("--client", required=True, metavar="CLIENT_ID")
    dry.add_argument("--purpose", required=True)
    dry.add_argument("--query", required=True, type=Path, metavar="QUERY.graphql")
    dry.add_argument("--variables", default="{}", metavar="JSON")
    dry.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who runs it (for the audit)")
    dry.set_defaults(run=_policy_dry_run)
    export = actions.add_parser("export", help="print the current (or a given) version as YAML")
    export.add_argument("--version", type=int)
    export.set_defaults(run=_policy_export)


def _add_audit_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    audit_command = commands.add_parser("audit", help="the audit trail")
    actions = audit_command.add_subparsers(required=True, metavar="ACTION")
    verify_command = actions.add_parser("verify", help="check the hash chain; name the first broken or missing link")
    verify_command.add_argument(
        "--anchor", metavar="SEQ:HASH", help="a head printed by an earlier verify: also detects a cut-off tail"
    )
    verify_command.set_defaults(run=_audit_verify)


def _comma_list(text: str) -> list[str]:
    return [item.strip() for item in text.split(",") if item.strip()]


_opened: list[sa.Engine] = []
"""Engines a command opened; `main` disposes of them when it ends (tests run commands in-process)."""


def _open_store(settings: Settings) -> sa.Engine:
    engine = create_engine(settings.database_url)
    _opened.append(engine)
    migrate(engine)
    return engine


def _demo(args: argparse.Namespace, _settings: Settings) -> int:
    from tools.demo import generate

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


def _policy_apply(args: argparse.Namespace, settings: Settings) -> int:
    engine = _open_store(settings)
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as error:
        print(f"aidgraph policy apply: cannot read {args.file}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        version = apply_audited_policy(engine, text, applied_by=args.by, source=str(args.file))
    except PolicyError as error:
        print(f"aidgraph policy apply: {error}", file=sys.stderr)
        return 2
    print(f"policy version {version} applied; running hubs use it within seconds")
    return 0


def _policy_dry_run(args: argparse.Namespace, settings: Settings) -> int:
    from aidgraph.dry_run import DryRunError, dry_run

    try:
        text = args.file.read_text(encoding="utf-8")
        query = args.query.read_text(encoding="utf-8")
    except OSError as error:
        print(f"aidgraph policy dry-run: cannot read {error.filename}: {error.strerror}", file=sys.stderr)
        return 2
    try:
        variables = json.loads(args.variables)
    except json.JSONDecodeError as error:
        print(f"aidgraph policy dry-run: --variables is not JSON: {error}", file=sys.stderr)
        return 2
    try:
        answer = dry_run(
            _open_store(settings),
            text,
            client_id=args.client,
            purpose=args.purpose,
            query=query,
            variables=variables,
            source=str(args.file),
            run_by=args.by,
        )
    except (PolicyError, DryRunError) as error:
        print(f"aidgraph policy dry-run: {error}", file=sys.stderr)
        return 2
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def _policy_export(args: argparse.Namespace, settings: Settings) -> int:
    with _open_store(settings).connect() as connection:
        found = stored_policy(connection, args.version)
    if found is None:
        what = f"version {args.version}" if args.version is not None else "policy"
        print(f"aidgraph policy export: no {what} has been applied", file=sys.stderr)
        return 2
    sys.stdout.write(found.policy.text)
    return 0


def _audit_verify(args: argparse.Namespace, settings: Settings) -> int:
    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        hexadecimal = len(digest) == 64 and all(character in "0123456789abcdef" for character in digest)
        if not seq.isdigit() or int(seq) < 1 or not hexadecimal:
            print("aidgraph audit verify: --anchor is SEQ:HASH as an earlier verify printed it", file=sys.stderr)
            return 2
        anchor = (int(seq), digest)
    report = verify(_open_store(settings), anchor=anchor)
    print(format_report(report))
    return 0 if report.ok else 1


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    loopback = ipaddress.ip_address(_resolve(args.host)).is_loopback
    if not loopback and not settings.token_issuer.startswith("https://"):
        print(
            f"aidgraph serve: refusing to bind {args.host}: client secrets and tokens would cross the network "
            "in clear. Put TLS in front and set AIDGRAPH_TOKEN_ISSUER to its https:// address.",
            file=sys.stderr,
        )
        return 2
    engine = _open_store(settings)
    if args.demo:
        _load_demo(engine, Path(os.environ.get("AIDGRAPH_DEMO_DIR", "demo-data")))
        _demo_access(engine)
    engine.dispose()
    import uvicorn

    print(f"aidgraph: store {redact(settings.database_url)}")
    print(f"aidgraph: serving on http://{args.host}:{args.port}/graphql (POST /oauth/token for an access token)")
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
    from tools.demo import generate

    with engine.connect() as connection:
        people = connection.execute(sa.select(sa.func.count()).select_from(registry.PERSONS.table)).scalar_one()
    if people:
        print(f"aidgraph: the store already holds {people} persons; demo data not loaded again")
        return
    print(f"aidgraph: generating demo data ({DEMO_HOUSEHOLDS} households) in {folder}/ ...")
    generate(folder, households=DEMO_HOUSEHOLDS, seed=0)
    for name, spec in DEPARTMENTS.items():
        _print_reports(name, ingest_folder(engine, spec, folder / name))


def _demo_access(engine: sa.Engine) -> None:
    from auth.demo_access import ensure_demo_policy, register_demo_clients

    version = ensure_demo_policy(engine)
    if version is not None:
        print(f"aidgraph: demo policy applied as version {version}")
    registered = register_demo_clients(engine)
    if not registered:
        print("aidgraph: demo clients were registered before (their secrets were printed then)")
        return
    print("aidgraph: demo clients (secrets are shown this once):")
    for demo, purposes, secret in registered:
        print(f"  {demo.client_id:<26} role {demo.role:<14} regions {','.join(demo.regions):<8} secret {secret}")
        print(f"  {'':<26} purposes {', '.join(purposes)}")


def _resolve(host: str) -> str:
    return "127.0.0.1" if host == "localhost" else host


if __name__ == "__main__":
    raise SystemExit(main())
