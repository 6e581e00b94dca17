"""`aidgraph ingest` and `aidgraph rejected`: import department CSV exports as dated snapshots, list rows refused."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import sqlalchemy as sa

from adapters import store
from adapters.base import Department
from adapters.catalog import DEPARTMENTS, department
from adapters.ingest import FileReport, ingest
from adapters.progress import Progress
from aidgraph.cli.context import CommandContext, fail
from aidgraph.cli.warnings import load_rules, print_scan, run_scan

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands
    from casework.warnings.rules import WarningRules


def register(commands: Commands) -> None:
    ingest = commands.add_parser(
        "ingest",
        help="import department CSV exports into the store as dated snapshots, all or nothing",
        description="Every committed import then scans the households it changed for early warnings "
        "(aidgraph warnings scan). Exit status: 0 imported; 1 a file is missing, unreadable, wrongly encoded, "
        "has a wrong header or had every row rejected (nothing imported); "
        "2 a department folder is missing (nothing imported).",
    )
    ingest.add_argument("department", metavar="DEPARTMENT", help=f"one of {', '.join(DEPARTMENTS)}, or 'all'")
    ingest.add_argument("folder", type=Path, metavar="FOLDER", help="for 'all': the folder holding <department>/")
    ingest.add_argument(
        "--as-of", type=_moment, help="when the export was taken (ISO date or time, UTC); default: the files' mtime"
    )
    ingest.add_argument(
        "--incremental",
        action="store_true",
        help="the export carries only changes: records it lacks stay current (default: a full snapshot closes them)",
    )
    ingest.add_argument(
        "--allow-missing",
        action="store_true",
        help="skip a missing department folder or file instead of refusing the whole import",
    )
    ingest.set_defaults(run=_ingest)

    rejected = commands.add_parser("rejected", help="list the rows ingest rejected, with file, line and reason")
    rejected.add_argument("--department")
    rejected.set_defaults(run=_rejected)


def _moment(text: str) -> dt.datetime:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        example = "2026-11-30 or 2026-11-30T18:00"
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date or time ({example})") from None
    return moment.replace(tzinfo=dt.UTC) if moment.tzinfo is None else moment.astimezone(dt.UTC)


def print_reports(name: str, reports: list[FileReport]) -> None:
    """One department's ingest as a table: rows read, accepted, rejected, changed and closed per file."""
    print(f"{name}:")
    print(f"  {'file':<16}{'read':>9}{'accepted':>10}{'rejected':>10}{'changed':>9}{'closed':>8}")
    for report in reports:
        if report.error:
            print(f"  {report.file:<16}  {report.error}")
        else:
            counts = f"{report.read:>9}{report.accepted:>10}{report.rejected:>10}{report.changed:>9}{report.closed:>8}"
            print(f"  {report.file:<16}{counts}")
            if report.read and not report.accepted:
                print(f"  {'':<16}  every row was rejected (aidgraph rejected --department {name})")
        for warning in report.warnings:
            print(f"  {'':<16}  warning: {warning}")


def _ingest(args: argparse.Namespace, context: CommandContext) -> int:
    names = list(DEPARTMENTS) if args.department == "all" else [args.department]
    try:
        departments = [department(name) for name in names]
    except KeyError as error:
        return fail("ingest", error.args[0])
    if args.department != "all" and not args.folder.is_dir():
        return fail("ingest", f"department folder {args.folder}/ not found")
    exports = [(spec, args.folder / spec.name if args.department == "all" else args.folder) for spec in departments]
    # Checked before anything is imported: an import whose warnings scan cannot run would leave its
    # changes unscanned.
    rules = load_rules(context, "ingest")
    if isinstance(rules, int):
        return rules
    engine = context.store()
    outcome = ingest(
        engine,
        exports,
        as_of=args.as_of,
        incremental=args.incremental,
        allow_missing=args.allow_missing,
        progress=Progress("ingest"),
    )
    for report in outcome.departments:
        if report.error and not report.files:
            print(f"aidgraph ingest: {report.department}: {report.error}", file=sys.stderr)
            continue
        if report.error:
            print(f"aidgraph ingest: {report.department}: {report.error}", file=sys.stderr)
        print_reports(report.department, report.files)
        if report.run_id is not None and report.as_of is not None:
            print(f"  run {report.run_id}, export as of {report.as_of:%Y-%m-%d %H:%M:%S} UTC")
    if not outcome.committed:
        print("aidgraph ingest: nothing was imported", file=sys.stderr)
        return outcome.status
    _scan_changes(engine, rules, [(department(r.department), r.run_id) for r in outcome.departments if r.run_id])
    return outcome.status


def _scan_changes(engine: sa.Engine, rules: WarningRules, runs: list[tuple[Department, int]]) -> None:
    """The early-warning scan of the households the runs changed or closed records of, with its time apart
    (an ingest's rows per second do not include it)."""
    from casework.warnings.changed import changed_households

    report, seconds = run_scan(engine, rules, households=changed_households(runs))
    print_scan(report, what="the households this import changed")
    print(f"warnings scan took {seconds:.2f} s")


def _rejected(args: argparse.Namespace, context: CommandContext) -> int:
    with context.store().connect() as connection:
        rows = store.rejections(connection, department=args.department)
    for row in rows:
        print(f"{row['department']}/{row['file']}:{row['line']}: {row['reason']}")
    print(f"{len(rows)} rejected rows", file=sys.stderr)
    return 0
