"""`aidgraph ingest` and `aidgraph rejected`: import department CSV folders, list the rows refused."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from adapters import store
from adapters.catalog import DEPARTMENTS, department
from adapters.csvfiles import FileError
from adapters.ingest import FileReport, ingest_folder
from aidgraph.cli.context import CommandContext, fail

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    ingest = commands.add_parser("ingest", help="import a department's CSV folder into the store")
    ingest.add_argument("department", metavar="DEPARTMENT", help=f"one of {', '.join(DEPARTMENTS)}, or 'all'")
    ingest.add_argument("folder", type=Path, metavar="FOLDER", help="for 'all': the folder holding <department>/")
    ingest.set_defaults(run=_ingest)

    rejected = commands.add_parser("rejected", help="list the rows ingest rejected, with file, line and reason")
    rejected.add_argument("--department")
    rejected.set_defaults(run=_rejected)


def print_reports(name: str, reports: list[FileReport]) -> None:
    """One department's ingest as a table: rows read, accepted, rejected and changed per file."""
    print(f"{name}:")
    print(f"  {'file':<16}{'read':>9}{'accepted':>10}{'rejected':>10}{'changed':>9}")
    for report in reports:
        if report.error:
            print(f"  {report.file:<16}  {report.error}")
        else:
            print(f"  {report.file:<16}{report.read:>9}{report.accepted:>10}{report.rejected:>10}{report.changed:>9}")


def _ingest(args: argparse.Namespace, context: CommandContext) -> int:
    engine = context.store()
    names = list(DEPARTMENTS) if args.department == "all" else [args.department]
    failed = False
    for name in names:
        try:
            spec = department(name)
        except KeyError as error:
            return fail("ingest", error.args[0])
        folder = args.folder / name if args.department == "all" else args.folder
        try:
            reports = ingest_folder(engine, spec, folder)
        except FileError as error:
            return fail("ingest", error)
        print_reports(name, reports)
        # A file that is absent is not a failure (departments export what they have); one unreadable is.
        failed = failed or any(
            report.error and report.read == 0 and "not present" not in report.error for report in reports
        )
    return 1 if failed else 0


def _rejected(args: argparse.Namespace, context: CommandContext) -> int:
    with context.store().connect() as connection:
        rows = store.rejections(connection, department=args.department)
    for row in rows:
        print(f"{row['department']}/{row['file']}:{row['line']}: {row['reason']}")
    print(f"{len(rows)} rejected rows", file=sys.stderr)
    return 0
