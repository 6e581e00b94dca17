"""The `aidgraph` console command: demo data, ingest, rejected rows, schema, clients, keys, users, policy, audit, serve.

Each command group is a module here that adds its parsers and handlers. A handler checks its
arguments, calls a service of the hub (one a console would call too) and prints what it answers.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from importlib.metadata import version

from aidgraph.cli import (
    audit,
    clients,
    comparison,
    demo,
    ingest,
    policy,
    schema,
    serve,
    students,
    users,
    warnings,
    webhooks,
)
from aidgraph.cli.context import CommandContext
from aidgraph.db import create_engine
from aidgraph.settings import Settings

# In the order `aidgraph --help` lists them.
GROUPS = (demo, ingest, schema, clients, users, students, comparison, warnings, webhooks, policy, audit, serve)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    context = CommandContext(Settings.from_environment(), engine_factory=create_engine)
    try:
        return int(args.run(args, context) or 0)
    finally:
        context.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aidgraph", description=__doc__.splitlines()[0])
    # The installed package's version, so that it cannot differ from what pip reports.
    parser.add_argument("--version", action="version", version=f"aidgraph {version('aidgraph')}")
    commands = parser.add_subparsers(required=True, metavar="COMMAND")
    for group in GROUPS:
        group.register(commands)
    return parser
