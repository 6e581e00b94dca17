"""`aidgraph operations`: the registered operations (trusted documents) clients may send by id."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext, fail
from auth.audit import AuditUnavailable
from registered.documents import DocumentError
from registered.operations import OperationError, add_operations, list_operations, remove_operation
from schema import create_schema

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    operations = commands.add_parser("operations", help="register, list and remove the operations clients send by id")
    actions = operations.add_subparsers(required=True, metavar="ACTION")

    add = actions.add_parser("add", help="register each named operation of a .graphql file, and print its id")
    add.add_argument("file", type=Path, metavar="FILE.graphql")
    add.add_argument("--client", metavar="ID", help="the only client that may use them (default: every client)")
    add.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who registers them (for the audit)")
    add.set_defaults(run=_operations_add)

    listing = actions.add_parser("list", help="list the registered operations, and those this hub would not serve")
    listing.set_defaults(run=_operations_list)

    remove = actions.add_parser("remove", help="stop serving a registered operation (every worker within seconds)")
    remove.add_argument("document_id", metavar="DOCUMENT_ID")
    remove.add_argument("--by", default=os.environ.get("USER", "unknown"), help="who removes it (for the audit)")
    remove.set_defaults(run=_operations_remove)


def _operations_add(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        text = args.file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        return fail("operations add", f"cannot read {args.file}: {error}")
    try:
        added = add_operations(
            context.store(),
            text,
            client_id=args.client,
            by=args.by,
            source=str(args.file),
            schema=create_schema(development=context.settings.development),
        )
    except DocumentError as error:
        return fail("operations add", f"{args.file} is not registered:\n{error}", 1)
    except (OperationError, AuditUnavailable) as error:
        return fail("operations add", error)
    for operation in added:
        state = "already registered" if operation.already_registered else "registered"
        print(f"{operation.document_id}  {operation.operation_name}  {state} for {_for(operation.client_id)}")
    print("running hubs serve them within 5 s", file=sys.stderr)
    return 0


def _operations_list(_args: argparse.Namespace, context: CommandContext) -> int:
    listed = list_operations(context.store(), schema=create_schema(development=context.settings.development))
    print(f"{'document id':<73}{'operation':<32}{'type':<10}{'client':<28}{'status':<9}added")
    for operation in listed:
        status = "invalid" if operation.problems else "valid"
        print(
            f"{operation.document_id:<73}{operation.operation_name:<32}{operation.operation_type:<10}"
            f"{operation.client_id or '(every client)':<28}{status:<9}"
            f"{operation.added_at:%Y-%m-%d %H:%M} by {operation.added_by}"
        )
        for problem in operation.problems:
            print(f"    {problem}")
    invalid = sum(1 for operation in listed if operation.problems)
    print(f"{len(listed)} registered operations, {invalid} not served by this schema", file=sys.stderr)
    return 0


def _operations_remove(args: argparse.Namespace, context: CommandContext) -> int:
    try:
        removed = remove_operation(context.store(), args.document_id, by=args.by)
    except (OperationError, AuditUnavailable) as error:
        return fail("operations remove", error)
    print(f"{removed.document_id}  {removed.operation_name}  removed: refused by every worker within 5 s")
    return 0


def _for(client_id: str | None) -> str:
    return "every client" if client_id is None else f"client {client_id}"
