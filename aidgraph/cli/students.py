"""`aidgraph students`: export a term's eligible students, and queue their changes for webhook subscribers."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from aidgraph.cli.context import CommandContext, fail
from auth.access import Access, PurposeNotAllowed, access_for, operator_access
from auth.clients import load_client
from auth.policy import CompiledPolicy
from auth.policy_store import stored_policy
from resolvers.students.export_request import DEFAULT_FORMAT, ExportRequestError, export_request

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands

STUDENT_AID = "student-aid"


def register(commands: Commands) -> None:
    students = commands.add_parser("students", help="proactive student aid: the eligible students of a term")
    actions = students.add_subparsers(required=True, metavar="ACTION")
    export = actions.add_parser(
        "export",
        help="write every eligible student of a term (CSV or NDJSON), audited",
        usage="aidgraph students export --region R --term T [--format csv|ndjson] [--stage S] [--client ID] "
        "[--by NAME] [--out FILE]",
    )
    # Checked, defaulted and refused by export_request, as GET /students/export is: not by argparse,
    # whose words for a missing or wrong argument would differ from the endpoint's.
    export.add_argument("--region", metavar="R", help="division code or prefix, e.g. 3505 (required)")
    export.add_argument("--term", metavar="T", help="e.g. 2026-2027-1 (required)")
    export.add_argument("--format", metavar="csv|ndjson", help=f"default: {DEFAULT_FORMAT}")
    export.add_argument("--stage", metavar="S", help="only this stage, e.g. PRIMARY")
    export.add_argument("--client", metavar="CLIENT_ID", help="export as this client sees it (default: the operator)")
    export.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who exports (for the audit)")
    export.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
    export.set_defaults(run=_students_export)
    notify = actions.add_parser(
        "notify", help="compare each webhook subscription's eligible students with the last run; queue the changes"
    )
    notify.add_argument("--term", required=True, metavar="T")
    notify.set_defaults(run=_students_notify)


def _students_export(args: argparse.Namespace, context: CommandContext) -> int:
    from resolvers.students.export import encode, export_rows

    try:
        asked = export_request(region=args.region, term=args.term, format_name=args.format, stage=args.stage)
    except ExportRequestError as error:
        return fail("students export", error)
    engine = context.store()
    access = _export_access(engine, args.client)
    if isinstance(access, str):
        return fail("students export", access)
    operation = "students export (cli)"
    rows = export_rows(
        engine, access, term=asked.term, region=asked.region, stage=asked.stage, operation=operation, actor=args.by
    )
    out = args.out.open("wb") if args.out else sys.stdout.buffer
    try:
        for chunk in encode(rows, asked.format):
            out.write(chunk)
        out.flush()
    except BrokenPipeError:
        # The reader stopped (`| head`): end quietly, as a pipeline's producer does. What was sent
        # is audited already; stdout goes to /dev/null so that the exit's own flush cannot fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    finally:
        if args.out:
            out.close()
    return 0


def _export_access(engine: sa.Engine, client_id: str | None) -> Access | str:
    """The access an export runs with: a registered client's (purpose student-aid), or the operator's
    (role student-aid, every region) under the current policy; a reason string when there is none."""
    with engine.connect() as connection:
        current = stored_policy(connection)
    if current is None:
        return "no access policy is live (aidgraph policy apply FILE, then approve)"
    compiled = CompiledPolicy(current.policy, current.version)
    if client_id is None:
        access = operator_access(frozenset({STUDENT_AID}), STUDENT_AID, compiled)
    else:
        client = load_client(engine, client_id)
        if client is None or client.disabled:
            return f"client {client_id!r} is not registered, or disabled"
        try:
            access = access_for(client.principal(token_purposes=[STUDENT_AID]), STUDENT_AID, compiled)
        except PurposeNotAllowed as refused:
            return str(refused)
    problem = access.enter("eligibleStudents")  # the export is that list whole: governed alike
    return access if problem is None else problem


def _students_notify(args: argparse.Namespace, context: CommandContext) -> int:
    from resolvers.students.changes import DetectionConflict, detect_changes
    from webhooks.subscriptions import SubscriptionError

    try:
        report = detect_changes(context.store(), term=args.term)
    except SubscriptionError as error:
        return fail("students notify", error)
    except DetectionConflict as error:
        return fail("students notify", error, code=1)
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
