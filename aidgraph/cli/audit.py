"""`aidgraph audit`: check the audit trail's hash chain, and search it."""

from __future__ import annotations

import argparse
import sys
from datetime import datetime
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, fail
from auth.audit import format_report, verify
from auth.audit.rows import StoredEvent
from auth.audit.search import DEFAULT_PAGE, MAX_PAGE, SearchError, search
from auth.audit.verifier import parse_anchor

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    audit = commands.add_parser("audit", help="the audit trail")
    actions = audit.add_subparsers(required=True, metavar="ACTION")
    verify_command = actions.add_parser("verify", help="check the hash chain; name the first broken or missing link")
    verify_command.add_argument(
        "--anchor", metavar="SEQ:HASH", help="a head printed by an earlier verify: also detects a cut-off tail"
    )
    verify_command.set_defaults(run=_audit_verify)

    find = actions.add_parser("search", help="the events matching every filter given, newest first")
    find.add_argument("--client", metavar="CLIENT_ID", help="the client the request came from")
    find.add_argument("--purpose", metavar="P", help="the purpose declared")
    find.add_argument("--outcome", metavar="O", help="ok, partial, refused, ... (docs/access.md)")
    find.add_argument("--operation", metavar="NAME", help="an operation name, or its beginning")
    find.add_argument("--since", type=_instant, metavar="ISO", help="from this time on, e.g. 2026-11-24T09:00+08:00")
    find.add_argument("--until", type=_instant, metavar="ISO", help="before this time")
    find.add_argument(
        "--resident", metavar="ID", help="the events that returned this resident (18 or 15 digits; '-': read stdin)"
    )
    find.add_argument("--first", type=int, default=DEFAULT_PAGE, metavar="N", help=f"at most N events (1-{MAX_PAGE})")
    find.add_argument("--before", type=int, metavar="SEQ", help="only events older than SEQ (the next page)")
    find.set_defaults(run=_audit_search)


def _audit_verify(args: argparse.Namespace, context: CommandContext) -> int:
    anchor = None
    if args.anchor:
        try:
            anchor = parse_anchor(args.anchor)
        except ValueError:
            return fail("audit verify", "--anchor is SEQ:HASH as an earlier verify printed it")
    report = verify(context.store(), anchor=anchor)
    print(format_report(report))
    return 0 if report.ok else 1


def _audit_search(args: argparse.Namespace, context: CommandContext) -> int:
    # '-' keeps the id out of the shell's history and the process list
    resident = sys.stdin.readline().strip() if args.resident == "-" else args.resident
    try:
        page = search(
            context.store(),
            client_id=args.client,
            purpose=args.purpose,
            outcome=args.outcome,
            operation=args.operation,
            since=args.since,
            until=args.until,
            resident_id=resident,
            first=args.first,
            before_seq=args.before,
        )
    except SearchError as error:
        return fail("audit search", error)
    for entry in page.entries:
        print(event_line(entry))
    more = f"; older ones: --before {page.next_before_seq}" if page.next_before_seq is not None else ""
    print(f"{len(page.entries)} events{more}", file=sys.stderr)
    return 0


def event_line(entry: StoredEvent) -> str:
    """One event on one line: who, why, what and the counts of what was returned, never a subject."""
    parts = [
        f"{entry.seq:>8}",
        entry.at.isoformat(timespec="seconds").replace("+00:00", "Z"),
        _shown(entry.client_id),
        _shown(entry.purpose),
        _shown(entry.operation),
        _shown(entry.outcome),
        f"subjects={entry.subject_count} revealed={entry.revealed_count} "
        f"masked={entry.masked_count} withheld={entry.withheld_count}",
    ]
    if entry.actor:
        parts.append(f"actor={_shown(entry.actor)}")
    if entry.case_id:
        parts.append(f"case={_shown(entry.case_id)}")
    if entry.policy_version is not None:
        parts.append(f"policy=v{entry.policy_version}")
    if entry.detail:
        parts.append(f"- {_shown(entry.detail)}")
    return " ".join(parts)


def _shown(text: str | None) -> str:
    # A refused request's purpose, operation or case id is the client's own text: a line break or a
    # terminal escape in it must not break the one line per event, nor reach the terminal as such.
    if not text:
        return "-"
    return "".join(character if character.isprintable() else f"\\u{ord(character):04x}" for character in text)


def _instant(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO 8601 time (2026-11-24T09:00+08:00)") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"{text!r} needs a time zone (2026-11-24T09:00+08:00, or Z for UTC)")
    return moment
