"""`aidgraph policy`: draft a YAML policy as a new version, approve it (four eyes), withdraw or roll back,
list the versions, see what a draft changes (diff), why a field is decided, its impact on past requests,
dry-run one for a client, export a version."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, fail
from auth.clients import load_client
from auth.policy import PolicyError
from auth.policy_admin import PolicyAdminError, approve, diff, impact, make_draft, rollback, versions, withdraw
from auth.policy_store import stored_policy

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands

SINGLE_PERSON = "this hub allows a single person (AIDGRAPH_POLICY_SINGLE_PERSON=1): its author may approve it"


def register(commands: Commands) -> None:
    policy = commands.add_parser("policy", help="the access policy: drafts, four-eyes approval, versions, why, impact")
    actions = policy.add_subparsers(required=True, metavar="ACTION")
    apply = actions.add_parser("apply", help="check a YAML policy and store it as a draft (the next version)")
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who writes it (the draft's author)")
    apply.add_argument("--reason", help="why: kept with the version and in the audit trail")
    apply.set_defaults(run=_policy_apply)
    for name, run, helped in (
        ("approve", _policy_approve, "publish a draft: it becomes the live version (a second person)"),
        ("withdraw", _policy_withdraw, "withdraw a draft: it is kept, never approved"),
        ("rollback", _policy_rollback, "draft an earlier version's document again, to be approved like any"),
    ):
        action = actions.add_parser(name, help=helped)
        action.add_argument("version", type=int, metavar="VERSION")
        action.add_argument("--by", required=True, help="who does it (for the audit)")
        action.set_defaults(run=run)
    listed = actions.add_parser("versions", help="every version: who, when, why, its status, who approved it")
    listed.set_defaults(run=_policy_versions)
    changed = actions.add_parser("diff", help="what a version changes, field by field, against the live one")
    changed.add_argument("version", type=int, metavar="VERSION")
    changed.add_argument("--against", type=int, metavar="V", help="compare with version V instead of the live one")
    changed.set_defaults(run=_policy_diff)
    why = actions.add_parser("why", help="each field of a query for a client and purpose, and the rule that decides it")
    why.add_argument("--client", required=True, metavar="CLIENT_ID")
    why.add_argument("--purpose", required=True)
    why.add_argument("--query", required=True, type=Path, metavar="QUERY.graphql")
    why.add_argument("--version", type=int, help="a draft or earlier version (default: the live one)")
    why.set_defaults(run=_policy_why)
    replay = actions.add_parser("impact", help="replay the last days' requests against a version, per client")
    replay.add_argument("version", type=int, metavar="VERSION")
    replay.add_argument("--days", type=int, default=7)
    replay.set_defaults(run=_policy_impact)
    dry = actions.add_parser("dry-run", help="show what a client would receive for a query under a policy file")
    dry.add_argument("file", type=Path, metavar="FILE")
    dry.add_argument("--client", required=True, metavar="CLIENT_ID")
    dry.add_argument("--purpose", required=True)
    dry.add_argument("--query", required=True, type=Path, metavar="QUERY.graphql")
    dry.add_argument("--variables", default="{}", metavar="JSON")
    dry.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who runs it (for the audit)")
    dry.set_defaults(run=_policy_dry_run)
    export = actions.add_parser("export", help="print the live (or a given) version as YAML")
    export.add_argument("--version", type=int)
    export.set_defaults(run=_policy_export)


def _policy_apply(args: argparse.Namespace, context: CommandContext) -> int:
    engine = context.store()
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as error:
        return fail("policy apply", f"cannot read {args.file}: {error.strerror}")
    try:
        version = make_draft(engine, text, by=args.by, reason=args.reason, source=str(args.file))
    except (PolicyError, PolicyAdminError) as error:
        return fail("policy apply", error)
    with engine.connect() as connection:
        drafted = stored_policy(connection, version)
    assert drafted is not None
    base = f"based on live version {drafted.based_on}" if drafted.based_on is not None else "no version is live yet"
    print(f"policy version {version} drafted by {drafted.applied_by} ({base}); nothing changes until it is approved")
    print(f"  see what it changes: aidgraph policy diff {version}; on past requests: aidgraph policy impact {version}")
    approver = "--by NAME" if context.settings.policy_single_person else "--by ANOTHER-PERSON (four eyes)"
    print(f"  publish it: aidgraph policy approve {version} {approver}; or: aidgraph policy withdraw {version}")
    if context.settings.policy_single_person:
        print(f"  {SINGLE_PERSON}")
    return 0


def _policy_approve(args: argparse.Namespace, context: CommandContext) -> int:
    engine = context.store()
    single = context.settings.policy_single_person
    try:
        approve(engine, args.version, by=args.by, single_person=single)
    except PolicyAdminError as error:
        return fail("policy approve", error)
    with engine.connect() as connection:
        approved = stored_policy(connection, args.version)
    assert approved is not None
    print(
        f"policy version {args.version} approved by {approved.approved_by} (drafted by {approved.applied_by}):"
        " it is the live version; running hubs use it within seconds"
    )
    if single:
        print(f"  {SINGLE_PERSON}")
    return 0


def _policy_withdraw(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        withdraw(context.store(), args.version, by=args.by)
    except PolicyAdminError as error:
        return fail("policy withdraw", error)
    print(f"policy version {args.version} withdrawn by {args.by.strip()}; it stays listed, and is never approved")
    return 0


def _policy_rollback(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        version = rollback(context.store(), args.version, by=args.by)
    except (PolicyError, PolicyAdminError) as error:
        return fail("policy rollback", error)
    print(f"policy version {version} drafted with version {args.version}'s document (rollback to {args.version})")
    print(f"  publish it: aidgraph policy approve {version} --by ANOTHER-PERSON")
    return 0


def _policy_versions(args: argparse.Namespace, context: CommandContext) -> int:
    rows = [["version", "status", "author", "made (UTC)", "approved or withdrawn by", "based on", "reason"]]
    for record in versions(context.store()):
        decided = record.approved_by or record.withdrawn_by or "-"
        rows.append(
            [
                f"{record.version}{' (live)' if record.live else ''}",
                record.status,
                record.author,
                record.made_at.strftime("%Y-%m-%d %H:%M"),
                decided,
                str(record.based_on) if record.based_on is not None else "-",
                record.reason or "-",
            ]
        )
    if len(rows) == 1:
        print("no policy version yet: aidgraph policy apply FILE --by NAME drafts one")
        return 0
    _print_table(rows)
    return 0


def _policy_diff(args: argparse.Namespace, context: CommandContext) -> int:
    with context.store().connect() as connection:
        new = stored_policy(connection, args.version)
        old = stored_policy(connection, args.against)  # None: the live one
    if new is None:
        return fail("policy diff", f"no policy version {args.version}")
    if args.against is not None and old is None:
        return fail("policy diff", f"no policy version {args.against}")
    against = f"version {old.version}" if old is not None else "no live version"
    changes = diff(old.policy if old is not None else None, new.policy)
    print(f"version {args.version} against {against}: {len(changes)} changed outcomes")
    rows = [["role", "purpose", "field", "before", "after", "decided by (after)"]]
    for change in changes:
        target = f"{change.target} (special values)" if change.special_values else change.target
        rows.append([change.role, change.purpose, target, change.before, change.after, change.after_rule])
    if changes:
        _print_table(rows)
    return 0


def _policy_why(args: argparse.Namespace, context: CommandContext) -> int:
    from aidgraph.policy_why import explain_query

    try:
        query = args.query.read_text(encoding="utf-8")
    except OSError as error:
        return fail("policy why", f"cannot read {args.query}: {error.strerror}")
    engine = context.store()
    client = load_client(engine, args.client)
    if client is None:
        return fail("policy why", f"no client {args.client!r} is registered")
    with engine.connect() as connection:
        stored = stored_policy(connection, args.version)
    if stored is None:
        return fail("policy why", f"no policy version {args.version}" if args.version else "no policy is live")
    try:
        decisions = explain_query(stored.policy, client, args.purpose, query)
    except PolicyAdminError as error:
        return fail("policy why", error)
    print(f"{args.client} ({', '.join(client.roles)}) for {args.purpose}, policy version {stored.version}:")
    rows = [["field", "outcome", "decided by", "rule"]]
    for target, decision in decisions:
        rows.append([target, str(decision.action), decision.kind, decision.rule])
        if decision.special is not None:
            rows.append(["  its special values", str(decision.special.action), "special value", decision.special.rule])
    _print_table(rows)
    closed = [name for name, decision in decisions if decision.kind == "entry point" and decision.action.kind == "deny"]
    if closed:
        print(f"the query is refused (FORBIDDEN) before anything is read: {', '.join(closed)} not open")
    return 0


def _policy_impact(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        found = impact(context.store(), args.version, days=args.days)
    except PolicyAdminError as error:
        return fail("policy impact", error)
    span = f"{found.since:%Y-%m-%d %H:%M} to {found.until:%Y-%m-%d %H:%M} UTC"
    print(
        f"policy version {found.draft_version} replayed on the requests of {span}: {found.replayed} replayed,"
        f" {found.skipped} skipped (no fields recorded: refusals, sign-ins, policy changes, dry runs)"
    )
    rows = [["client", "requests", "broken", "widened", "narrowed"]]
    notes = []
    for client in found.clients:
        name = client.client_id or "(no client)"
        rows.append([name, str(client.requests), str(client.broken), str(client.widened), str(client.narrowed)])
        for kind, fields in (
            ("broken", client.broken_fields),
            ("widened", client.widened_fields),
            ("narrowed", client.narrowed_fields),
        ):
            if fields:
                notes.append(f"  {name} {kind}: {', '.join(fields)}")
    if found.clients:
        _print_table(rows)
    for note in notes:
        print(note)
    return 0


def _policy_dry_run(args: argparse.Namespace, context: CommandContext) -> int:
    from aidgraph.dry_run import DryRunError, dry_run

    try:
        text = args.file.read_text(encoding="utf-8")
        query = args.query.read_text(encoding="utf-8")
    except OSError as error:
        return fail("policy dry-run", f"cannot read {error.filename}: {error.strerror}")
    try:
        variables = json.loads(args.variables)
    except json.JSONDecodeError as error:
        return fail("policy dry-run", f"--variables is not JSON: {error}")
    try:
        answer = dry_run(
            context.store(),
            text,
            client_id=args.client,
            purpose=args.purpose,
            query=query,
            variables=variables,
            source=str(args.file),
            run_by=args.by,
        )
    except (PolicyError, DryRunError) as error:
        return fail("policy dry-run", error)
    print(json.dumps(answer, ensure_ascii=False, indent=2))
    return 0


def _policy_export(args: argparse.Namespace, context: CommandContext) -> int:
    with context.store().connect() as connection:
        found = stored_policy(connection, args.version)
    if found is None:
        if args.version is not None:
            return fail("policy export", f"no policy version {args.version}")
        return fail("policy export", "no policy version is live (a draft is exported with --version N)")
    sys.stdout.write(found.policy.text)
    return 0


def _print_table(rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(row[column]) for row in rows) for column in range(len(rows[0]))]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())
