"""`aidgraph policy`: apply a YAML policy as a new version, dry-run one for a client, export a version."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, fail
from auth.policy import PolicyError
from auth.policy_store import apply_audited_policy, stored_policy

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
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


def _policy_apply(args: argparse.Namespace, context: CommandContext) -> int:
    engine = context.store()
    try:
        text = args.file.read_text(encoding="utf-8")
    except OSError as error:
        return fail("policy apply", f"cannot read {args.file}: {error.strerror}")
    try:
        version = apply_audited_policy(engine, text, applied_by=args.by, source=str(args.file))
    except PolicyError as error:
        return fail("policy apply", error)
    print(f"policy version {version} applied; running hubs use it within seconds")
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
        what = f"version {args.version}" if args.version is not None else "policy"
        return fail("policy export", f"no {what} has been applied")
    sys.stdout.write(found.policy.text)
    return 0
