"""`aidgraph webhooks`: subscribe client systems to change notifications, list them, read and run deliveries."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, comma_list, fail

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    webhooks = commands.add_parser("webhooks", help="change notifications to client systems (student aid, alerts)")
    actions = webhooks.add_subparsers(required=True, metavar="ACTION")
    add = actions.add_parser("add", help="subscribe a client's URL; prints the signing secret once")
    add.add_argument("client_id", metavar="CLIENT_ID")
    add.add_argument("url", metavar="URL")
    add.add_argument(
        "--events",
        type=comma_list,
        metavar="E1,E2",
        help="the event kinds to receive (default: student.eligible,student.no_longer_eligible)",
    )
    add.add_argument("--terms", type=comma_list, default=[], metavar="T1,T2", help="for student events: the terms")
    add.add_argument("--regions", type=comma_list, metavar="R1,R2", help="within the client's regions")
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


def _webhooks_add(args: argparse.Namespace, context: CommandContext) -> int:
    from webhooks.subscriptions import STUDENT_EVENTS, SubscriptionError, subscribe

    try:
        subscription, secret = subscribe(
            context.store(),
            client_id=args.client_id,
            url=args.url,
            terms=args.terms,
            events=args.events or STUDENT_EVENTS,
            regions=args.regions,
            announce_existing=not args.no_announce_existing,
            allow_http=args.allow_http,
        )
    except SubscriptionError as error:
        return fail("webhooks add", error)
    print(f"subscription {subscription.subscription_id} for {subscription.client_id}: {subscription.url}")
    print(f"  events: {', '.join(subscription.events)}")
    if subscription.terms:
        print(f"  terms: {', '.join(subscription.terms)}")
    print(f"signing secret: {secret}")
    print("Keep the secret now: it will not be shown again (see docs/notifications.md to verify signatures).")
    return 0


def _webhooks_list(_args: argparse.Namespace, context: CommandContext) -> int:
    from webhooks.subscriptions import list_subscriptions

    for item in list_subscriptions(context.store()):
        state = "active" if item.active else "disabled"
        following = ",".join(item.events) + (f" ({','.join(item.terms)})" if item.terms else "")
        print(f"{item.subscription_id}  {item.client_id:<24} {state:<9} {following:<24} {item.url}")
    return 0


def _webhooks_log(args: argparse.Namespace, context: CommandContext) -> int:
    from webhooks.log import delivery_log

    entries = delivery_log(context.store(), subscription_id=args.subscription, status=args.status, limit=args.limit)
    for entry in entries:
        print(
            f"{entry.delivery_id:>8} {entry.event_id} {entry.event_type:<28} {entry.term or '-'} {entry.status:<9} "
            f"attempts {entry.attempts}"
        )
    return 0


def _webhooks_deliver(_args: argparse.Namespace, context: CommandContext) -> int:
    from webhooks.delivery import deliver_due, http_client

    with http_client() as http:
        report = deliver_due(context.store(), http=http)
    print(f"delivered {report.delivered}, retrying {report.retrying}, failed {report.failed}")
    return 0
