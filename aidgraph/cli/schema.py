"""`aidgraph schema` and `aidgraph migrate`: the GraphQL schema the hub serves, and the store's own."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from aidgraph.cli.context import CommandContext

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    export = commands.add_parser("schema", help="print the GraphQL schema (SDL)")
    export.set_defaults(run=_schema)

    migrate = commands.add_parser("migrate", help="bring the store to the newest schema")
    migrate.set_defaults(run=_migrate)


def _schema(_args: argparse.Namespace, _context: CommandContext) -> int:
    import schema

    sys.stdout.write(schema.sdl())
    return 0


def _migrate(_args: argparse.Namespace, context: CommandContext) -> int:
    context.store()  # opening the store migrates it
    return 0
