"""`aidgraph warnings`: scan for early warnings of return to poverty, escalate overdue alerts."""

from __future__ import annotations

import argparse
import datetime as dt
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from aidgraph.cli.context import CommandContext, fail

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands
    from casework.warnings.rules import WarningRules
    from casework.warnings.scan import ScanReport


def register(commands: Commands) -> None:
    warnings = commands.add_parser("warnings", help="early warning of return to poverty: scan, escalate")
    actions = warnings.add_subparsers(required=True, metavar="ACTION")
    scan = actions.add_parser("scan", help="raise alerts for a region's new evidence; escalate the overdue")
    scan.add_argument("--region", required=True, metavar="R", help="a division code or prefix, e.g. 350583")
    scan.add_argument("--as-of", type=_day, metavar="DATE", help="the day the rules look at (default: today, UTC)")
    scan.set_defaults(run=_scan)
    escalate = actions.add_parser("escalate", help="move alerts not acknowledged in time from township to county")
    escalate.set_defaults(run=_escalate)


def _day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not an ISO date (e.g. 2026-12-01)") from None


def load_rules(context: CommandContext, command: str) -> WarningRules | int:
    """The rules the settings name; an exit status (the fault said on stderr) when they cannot be used."""
    from casework.warnings.rules import RulesError, rules_from

    try:
        return rules_from(context.settings.warning_rules_file)
    except RulesError as error:
        return fail(command, error)


def run_scan(
    engine: sa.Engine,
    rules: WarningRules,
    *,
    as_of: dt.date | None = None,
    regions: Sequence[Any] | None = None,
    households: Any = None,
    now: dt.datetime | None = None,
) -> tuple[ScanReport, float]:
    """One scan in its own transaction, its alert.raised webhooks queued with it; the report and its seconds."""
    from casework.warnings.notify import announce
    from casework.warnings.scan import scan

    moment = now or dt.datetime.now(dt.UTC)
    started = time.perf_counter()
    with engine.begin() as connection:
        report = scan(
            connection,
            regions=regions,
            households=households,
            as_of=as_of or moment.date(),
            now=moment,
            rules=rules,
            announce=announce,
        )
    return report, time.perf_counter() - started


def print_scan(report: ScanReport, *, what: str) -> None:
    """Per kind: alerts raised, evidence joined to open alerts; then escalations and webhooks (no line
    ends in a number, so that the ingest's table of counts stays the only such lines)."""
    print(f"warnings scan of {what} as of {report.as_of.isoformat()} (rules {report.rules_version}):")
    for kind, counts in report.kinds.items():
        print(f"  {kind + ':':<24}{counts.raised:>6} alerts raised, {counts.joined} evidence joined")
    print(f"  {'escalated:':<24}{report.escalated:>6} alerts to the county")
    print(f"  {'webhooks:':<24}{report.deliveries:>6} alert.raised deliveries queued")


def _scan(args: argparse.Namespace, context: CommandContext) -> int:
    from resolvers.rules.regions import Region

    try:
        region = Region.parse(args.region)
    except ValueError as error:
        return fail("warnings scan", error)
    rules = load_rules(context, "warnings scan")
    if isinstance(rules, int):
        return rules
    report, seconds = run_scan(context.store(), rules, as_of=args.as_of, regions=[region])
    print_scan(report, what=f"region {region}")
    print(f"warnings scan took {seconds:.2f} s")
    return 0


def _escalate(_args: argparse.Namespace, context: CommandContext) -> int:
    from casework.warnings.scan import escalate

    with context.store().begin() as connection:
        moved = escalate(connection, now=dt.datetime.now(dt.UTC))
    print(f"escalated {moved} overdue alerts to the county")
    return 0
