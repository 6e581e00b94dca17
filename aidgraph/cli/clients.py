"""`aidgraph clients` and `aidgraph keys`: the client systems, and the keys that sign their access tokens."""

from __future__ import annotations

import argparse
import os
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, comma_list, fail
from auth.audit import AuditUnavailable
from auth.clients import (
    ClientError,
    disable_client,
    last_used,
    list_clients,
    register_client,
    rotate_secret,
    set_rate_limit,
    set_registered_only,
)
from auth.server.keystore import rotate_ring

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    clients = commands.add_parser("clients", help="register, list, disable client systems and rotate their secrets")
    actions = clients.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register a client and print its secret (once)")
    add.add_argument("client_id", metavar="CLIENT_ID")
    add.add_argument("--department", required=True, metavar="D")
    add.add_argument("--roles", required=True, type=comma_list, metavar="R1,R2")
    add.add_argument("--regions", required=True, type=comma_list, metavar="3505,350583")
    add.add_argument("--purposes", required=True, type=comma_list, metavar="P1,P2")
    add.add_argument(
        "--rate-limit",
        type=_rate_limit,
        metavar="N",
        help="/graphql and export requests per minute, per worker (0: unlimited; default: AIDGRAPH_CLIENT_RATE_LIMIT)",
    )
    add.add_argument(
        "--registered-only",
        action="store_true",
        help="let the client send registered operations only (aidgraph operations add)",
    )
    _by(add, "who registers it")
    add.set_defaults(run=_clients_add)

    restrict = actions.add_parser(
        "restrict", help="restrict a client to registered operations, or let it send any operation again"
    )
    restrict.add_argument("client_id", metavar="CLIENT_ID")
    restrict.add_argument("operations", choices=("registered-only", "any"), metavar="registered-only|any")
    restrict.set_defaults(run=_clients_restrict)

    limit = actions.add_parser("limit", help="set a client's requests per minute, or give it the hub's default again")
    limit.add_argument("client_id", metavar="CLIENT_ID")
    limit.add_argument("rate_limit", type=_rate_limit_or_default, metavar="N|default")
    _by(limit, "who sets it")
    limit.set_defaults(run=_clients_limit)

    listing = actions.add_parser("list", help="list the registered clients")
    listing.set_defaults(run=_clients_list)

    disable = actions.add_parser("disable", help="refuse a client's secret and its tokens from now on")
    disable.add_argument("client_id", metavar="CLIENT_ID")
    _by(disable, "who disables it")
    disable.set_defaults(run=_clients_disable)

    rotate_secret_command = actions.add_parser(
        "rotate", help="give a client a new secret (printed once); the old one and its tokens stop working"
    )
    rotate_secret_command.add_argument("client_id", metavar="CLIENT_ID")
    _by(rotate_secret_command, "who rotates it")
    rotate_secret_command.set_defaults(run=_clients_rotate)

    keys = commands.add_parser("keys", help="the access-token signing keys")
    key_actions = keys.add_subparsers(required=True, metavar="ACTION")
    rotate = key_actions.add_parser("rotate", help="start signing with a new key; the old one stays published a while")
    rotate.set_defaults(run=_keys_rotate)


def _by(parser: argparse.ArgumentParser, who: str) -> None:
    default = os.environ.get("USER", "unknown")
    parser.add_argument("--by", default=default, metavar="NAME", help=f"{who} (for the audit)")


def _clients_add(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        client, secret = register_client(
            context.store(),
            client_id=args.client_id,
            department=args.department,
            roles=args.roles,
            regions=args.regions,
            purposes=args.purposes,
            rate_limit=args.rate_limit,
            registered_only=args.registered_only,
            by=args.by,
        )
    except (ClientError, AuditUnavailable) as error:
        return fail("clients add", error)
    print(f"registered client {client.client_id} ({client.department})")
    print(f"  roles:    {', '.join(client.roles)}")
    print(f"  regions:  {', '.join(client.regions)}")
    print(f"  purposes: {', '.join(client.purposes)}")
    print(f"  rate limit: {_describe_limit(client.rate_limit)}")
    if client.registered_only:
        print("  operations: registered only")
    print(f"client secret: {secret}")
    print("Keep the secret now: the hub stores only a hash of it and will not show it again.")
    return 0


def _clients_list(_args: argparse.Namespace, context: CommandContext) -> int:
    engine = context.store()
    clients = list_clients(engine)
    used = last_used(engine, [client.client_id for client in clients])
    print(
        f"{'client':<28}{'department':<16}{'status':<10}{'regions':<16}{'roles':<28}{'purposes':<40}"
        f"{'operations':<12}{'rate/min':<10}last used"
    )
    for client in clients:
        status = "disabled" if client.disabled else "enabled"
        rate = "default" if client.rate_limit is None else str(client.rate_limit or "unlimited")
        print(
            f"{client.client_id:<28}{client.department:<16}{status:<10}{','.join(client.regions):<16}"
            f"{','.join(client.roles):<28}{','.join(client.purposes):<40}"
            f"{'registered' if client.registered_only else 'any':<12}{rate:<10}{_when(used[client.client_id])}"
        )
    print(f"{len(clients)} clients", file=sys.stderr)
    return 0


def _clients_disable(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        disable_client(context.store(), args.client_id, by=args.by)
    except (ClientError, AuditUnavailable) as error:
        return fail("clients disable", error)
    print(f"client {args.client_id} disabled: its secret is refused now, its tokens within seconds")
    return 0


def _clients_rotate(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        secret = rotate_secret(context.store(), args.client_id, by=args.by)
    except (ClientError, AuditUnavailable) as error:
        return fail("clients rotate", error)
    print(f"client {args.client_id}: new secret; the old one is refused now, tokens got with it within seconds")
    print(f"client secret: {secret}")
    print("Keep the secret now: the hub stores only a hash of it and will not show it again.")
    return 0


def _when(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment is not None else "never"


def _clients_limit(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        set_rate_limit(context.store(), args.client_id, args.rate_limit, by=args.by)
    except (ClientError, AuditUnavailable) as error:
        return fail("clients limit", error)
    print(f"client {args.client_id}: {_describe_limit(args.rate_limit)}, in every worker within seconds")
    return 0


def _clients_restrict(args: argparse.Namespace, context: CommandContext) -> int:
    registered_only = args.operations == "registered-only"
    try:
        set_registered_only(context.store(), args.client_id, registered_only)
    except ClientError as error:
        return fail("clients restrict", error)
    allowed = "registered operations only" if registered_only else "any operation its policy allows"
    print(f"client {args.client_id}: {allowed}, in every worker within seconds")
    return 0


def _rate_limit(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of requests per minute") from None


def _rate_limit_or_default(text: str) -> int | None:
    return None if text == "default" else _rate_limit(text)


def _describe_limit(rate_limit: int | None) -> str:
    if rate_limit is None:
        return "the hub's default requests per minute (AIDGRAPH_CLIENT_RATE_LIMIT)"
    if rate_limit == 0:
        return "no rate limit"
    return f"{rate_limit} requests per minute per worker"


def _keys_rotate(_args: argparse.Namespace, context: CommandContext) -> int:
    ring = rotate_ring(context.store())
    older = len(ring.keys) - 1
    print(f"signing with new key {ring.current.kid} as each worker reloads (within a minute)")
    print(f"{older} older key(s) stay published until the tokens they signed have expired")
    return 0
