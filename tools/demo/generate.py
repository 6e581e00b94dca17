"""The demo data generator: every department's CSV files for a synthetic Quanzhou, written as a stream."""

from __future__ import annotations

import random
from dataclasses import dataclass
from pathlib import Path

from adapters.idnumber import to_legacy
from adapters.progress import Progress
from tools.demo import badrows, civil, disability, education, housing, medical, poverty
from tools.demo.dates import TODAY
from tools.demo.households import Household, HouseholdFactory, Person
from tools.demo.ids import spell
from tools.demo.places import BY_CODE, pick_county
from tools.demo.planting import Planter
from tools.demo.poverty import ANNEX2
from tools.demo.sink import Sink

__all__ = ["ANNEX2", "DEFAULT_HOUSEHOLDS", "DemoSummary", "generate"]

DEFAULT_HOUSEHOLDS = 3000  # the general population of `aidgraph demo` and `serve --demo`

# One bad row after every 20th general household (about 0.3% of all rows); the offsets make sure a
# run of 300 households already holds two full rotations of the seven kinds.
BAD_ROW_EVERY, BAD_ROW_OFFSET = 20, 7
# One adult with an HIV diagnosis per 500 general households: "a handful", and never none.
HIV_EVERY, HIV_OFFSET = 500, 150


@dataclass(frozen=True)
class DemoSummary:
    households: int  # general population plus the Annex 2 households
    persons: int  # registered persons (valid registry rows, bad rows excluded)
    bad_rows: int
    out_dir: Path


def generate(
    out_dir: Path, *, households: int = DEFAULT_HOUSEHOLDS, seed: int = 0, progress: Progress | None = None
) -> DemoSummary:
    """Write the seven departments' CSV folders and manifest.json into `out_dir`.

    `households` is the size of the general population. The 556 Annex 2 key-target households
    (seed 000: monitored households "lifted but unstable" and "affected by the epidemic" in 南安市,
    安溪县, 永春县 and 德化县) are always added on top, so any size reproduces Annex 2 exactly.
    The same (seed, households) gives byte-identical files. Households are written one at a time
    to every open file, so memory stays flat from a few hundred households to millions of persons.
    """
    if households < 0:
        raise ValueError("households must not be negative")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    factory = HouseholdFactory(rng)
    annex = poverty.annex_plan(rng)
    sink = Sink(out_dir)
    if progress is not None:
        progress.total = households + len(annex)
    try:
        civil.write_standards(sink)
        planter = Planter(households, seed)
        persons = _stream(rng, factory, sink, households, annex, progress, planter)
        total = households + len(annex)
        sink.close(
            {
                "seed": seed,
                "today": TODAY.isoformat(),
                "households": total,
                "general_households": households,
                "annex2_households": len(annex),
                "persons": persons,
            }
        )
    except BaseException:
        sink.abort()
        raise
    finally:
        if progress is not None:
            progress.finish()
    return DemoSummary(households=total, persons=persons, bad_rows=sink.bad_rows, out_dir=out_dir)


def _stream(
    rng: random.Random,
    factory: HouseholdFactory,
    sink: Sink,
    households: int,
    annex: list[tuple[str, str, int]],
    progress: Progress | None,
    planter: Planter,
) -> int:
    """Interleave general and Annex 2 households at random and write each; returns the persons.

    A general household chosen for a planted case (tools/demo/planting.py) is written as any other
    and then has the case's files replaced: the generator's own random draws stay the same."""
    general_left, annex_left = households, len(annex)
    general_index = bad_number = persons = 0
    hiv_pending = False
    while general_left or annex_left:
        if rng.random() * (general_left + annex_left) < annex_left:
            code, kind, size = annex[len(annex) - annex_left]
            annex_left -= 1
            household = factory.build(BY_CODE[code], size, kind)
        else:
            general_left -= 1
            household = factory.build(pick_county(rng))
            hiv_pending = hiv_pending or general_index % HIV_EVERY == HIV_OFFSET
        hiv = None
        if hiv_pending:
            adults = [p for p in household.members if 18 <= p.age <= 70]
            if adults:
                hiv, hiv_pending = rng.choice(adults), False
        case = None
        if household.annex is None:
            bad_row = general_index % BAD_ROW_EVERY == BAD_ROW_OFFSET
            case = planter.choose(general_index, household, clean=not bad_row and hiv is None)
        if case is not None:
            sink.hold()
        _write_household(rng, household, sink, hiv)
        if case is not None:
            planter.plant(case, household, sink)
        persons += len(household.members)
        if progress is not None:
            progress.advance(1)
        if household.annex is None:
            # Bad rows only ever join general households: Annex 2 data stays clean.
            if general_index % BAD_ROW_EVERY == BAD_ROW_OFFSET:
                badrows.emit(bad_number, rng, household, factory, sink)
                bad_number += 1
            general_index += 1
    return persons


def _write_household(rng: random.Random, household: Household, sink: Sink, hiv: Person | None) -> None:
    sink.write(
        "registry/households.csv",
        (household.number, household.xzqh, household.address, 2 if household.urban else 1),
    )
    for person in household.members:
        sink.write(
            "registry/persons.csv",
            (
                to_legacy(person.id) if person.legacy else spell(rng, person.id),
                person.name,
                1 if person.male else 2,
                person.birth.isoformat(),
                household.number,
                person.relation,
                person.phone,
            ),
        )
    civil.emit(rng, household, sink)
    education.emit(rng, household, sink)
    medical.emit(rng, household, sink, hiv)
    housing.emit(rng, household, sink)
    disability.emit(rng, household, sink)
    poverty.emit(rng, household, sink)
