"""`aidgraph audit`: check the audit trail's hash chain."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, fail
from auth.audit import format_report, verify

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


def _audit_verify(args: argparse.Namespace, context: CommandContext) -> int:
    anchor = None
    if args.anchor:
        seq, _, digest = args.anchor.partition(":")
        hexadecimal = len(digest) == 64 and all(character in "0123456789abcdef" for character in digest)
        if not seq.isdigit() or int(seq) < 1 or not hexadecimal:
            return fail("audit verify", "--anchor is SEQ:HASH as an earlier verify printed it")
        anchor = (int(seq), digest)
    report = verify(context.store(), anchor=anchor)
    print(format_report(report))
    return 0 if report.ok else 1
