"""`aidgraph demo`: write the synthetic demo departments as CSV folders."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import TYPE_CHECKING

from adapters.progress import Progress
from aidgraph.cli.context import CommandContext
from tools.demo import DEFAULT_HOUSEHOLDS, generate

if TYPE_CHECKING:
    from aidgraph.cli.context import Commands


def register(commands: Commands) -> None:
    demo = commands.add_parser("demo", help="write demo department exports as CSV folders DIR/<department>/")
    demo.add_argument("--out", type=Path, required=True, metavar="DIR")
    demo.add_argument("--households", type=int, default=DEFAULT_HOUSEHOLDS, metavar="N")
    demo.add_argument("--seed", type=int, default=0, metavar="S")
    demo.set_defaults(run=_demo)


def _demo(args: argparse.Namespace, _context: CommandContext) -> int:
    progress = Progress("demo", unit="households")
    summary = generate(args.out, households=args.households, seed=args.seed, progress=progress)
    print(f"wrote {summary.households} households, {summary.persons} persons to {args.out}/<department>/")
    print(f"{summary.bad_rows} deliberately bad rows are listed in {args.out / 'manifest.json'}")
    return 0
