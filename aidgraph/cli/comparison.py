"""`aidgraph comparison`: run the cross-department comparison, list and show runs, export a run's ledger.

An operator's tool on the store itself (docs/comparison.md): what it prints and exports is the ledger
as the store holds it, for the caseworkers of civil affairs; the export's cells are formula-safe.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from adapters.progress import Progress
from aidgraph.cli.context import CommandContext, fail
from casework import lifecycle

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    comparison = commands.add_parser("comparison", help="the cross-department comparison and its ledger")
    actions = comparison.add_subparsers(required=True, metavar="ACTION")
    run = actions.add_parser("run", help="run the 8 rules over the snapshots of a day; store the run and its items")
    run.add_argument("--region", required=True, metavar="R", help="division code or prefix, e.g. 3505")
    run.add_argument("--term", metavar="T", help="school term for C3, e.g. 2026-2027-1 (default: the as-of day's)")
    run.add_argument("--as-of", type=_day, metavar="DATE", help="YYYY-MM-DD (default: today, UTC)")
    run.add_argument("--by", default=os.environ.get("USER", "unknown"), metavar="NAME", help="who runs it")
    run.set_defaults(run=_run)
    listing = actions.add_parser("list", help="the runs, newest first")
    listing.set_defaults(run=_list)
    show = actions.add_parser("show", help="a run: its inputs, counts and items")
    show.add_argument("run_id", type=int, metavar="RUN")
    show.add_argument("--rule", metavar="CODE", help="only this rule's items, e.g. C1")
    show.add_argument("--status", metavar="S", choices=lifecycle.ITEM_STATUSES, help="only items in this status")
    show.set_defaults(run=_show)
    export = actions.add_parser("export", help="write a run's ledger: xlsx (a sheet per rule) or CSV")
    export.add_argument("run_id", type=int, metavar="RUN")
    export.add_argument("--format", required=True, choices=("xlsx", "csv"))
    export.add_argument("--out", type=Path, metavar="FILE", help="default: standard output")
    export.set_defaults(run=_export)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _run(args: argparse.Namespace, context: CommandContext) -> int:
    from aidgraph.sources import SourcesFileError, load_live_sources
    from casework.comparison.run import run

    # Only which departments are live: the run compares none of them (casework/comparison/run.py).
    try:
        sources = load_live_sources(context.settings.sources_file)
    except SourcesFileError as error:
        return fail("comparison run", error)
    live = set(sources)
    for source in sources.values():
        source.dispose()
    try:
        result = run(
            context.store(),
            region=args.region,
            term=args.term,
            as_of=args.as_of,
            by=args.by,
            live=live,
            progress=Progress("comparison run", unit="rules"),
        )
    except ValueError as error:
        return fail("comparison run", error)
    print(f"comparison run {result.run_id}: region {result.region}, term {result.term}, as of {result.as_of}")
    print_counts(result.counts, result.not_evaluated)
    return 0


def print_counts(counts: dict[str, Any], reasons: dict[str, str]) -> None:
    from casework.comparison.rules import RULES

    for rule in RULES:
        found = counts.get(rule.code)
        shown = f"not evaluated ({reasons.get(rule.code, 'no snapshot')})" if found is None else f"{found}"
        print(f"  {rule.code} {rule.zh} ({rule.en}): {shown}")


def _list(args: argparse.Namespace, context: CommandContext) -> int:
    from casework.comparison.ledger import runs

    with context.store().connect() as connection:
        found = runs(connection)
    if not found:
        print("no comparison runs")
    for run in found:
        counts = ", ".join(f"{code} {'-' if n is None else n}" for code, n in run["counts"].items())
        print(
            f"{run['id']}  {run['started_at']:%Y-%m-%d %H:%M}  region {run['region']}  term {run['term']}  "
            f"as of {run['as_of']}  by {run['started_by']}  {counts}"
        )
    return 0


def _show(args: argparse.Namespace, context: CommandContext) -> int:
    from casework.comparison.ledger import get_run, run_items
    from casework.comparison.rules import BY_CODE, RULES
    from casework.comparison.run import not_evaluated

    if args.rule is not None and args.rule not in BY_CODE:
        return fail("comparison show", f"rule {args.rule!r} is not one of {', '.join(BY_CODE)}")
    with context.store().connect() as connection:
        run = get_run(connection, args.run_id)
        if run is None:
            return fail("comparison show", f"no comparison run {args.run_id}", code=1)
        found = run_items(connection, args.run_id, rule=args.rule, status=args.status)
    print(
        f"comparison run {run['id']}: region {run['region']}, term {run['term']}, as of {run['as_of']}, "
        f"by {run['started_by']}, rules {run['rules_version']}"
    )
    print(f"  inputs: {json.dumps(run['inputs'], ensure_ascii=False, sort_keys=True)}")
    reasons = {rule.code: why for rule in RULES if (why := not_evaluated(rule, run["inputs"])) is not None}
    print_counts(run["counts"], reasons)
    for item in found:
        print(
            f"{item['id']}  {item['rule']}  {item['programme']}  {item['subject']}  {item['region_code']}  "
            f"{item['status']}{'  ' + item['reason_code'] if item['reason_code'] else ''}"
        )
    return 0


def _export(args: argparse.Namespace, context: CommandContext) -> int:
    from casework.comparison.ledger import export, get_run

    engine = context.store()
    with engine.connect() as connection:
        if get_run(connection, args.run_id) is None:
            return fail("comparison export", f"no comparison run {args.run_id}", code=1)
        out = args.out.open("wb") if args.out else sys.stdout.buffer
        try:
            export(
                connection,
                args.run_id,
                format_name=args.format,
                out=out,
                progress=Progress("comparison export", unit="items"),
            )
            out.flush()
        finally:
            if args.out:
                out.close()
    return 0
