"""Poverty-office records of a demo household (pkh, jcdx) and the Annex 2 key-target households."""

from __future__ import annotations

import datetime as dt
import random

from tools.demo.dates import LAST_DAY, between
from tools.demo.households import Household
from tools.demo.ids import spell
from tools.demo.places import COUNTIES
from tools.demo.sink import Sink

UNSTABLE, EPIDEMIC = "unstable", "epidemic"
EPIDEMIC_CAUSE = 6
# Seed 000, Annex 2: (unstable households, persons, epidemic-affected households, persons) by county.
_ANNEX_COUNTS = {
    "350583": (175, 485, 93, 303),
    "350524": (113, 432, 75, 276),
    "350525": (42, 146, 15, 57),
    "350526": (38, 121, 5, 20),
}
ANNEX2: dict[str, tuple[str, int, int, int, int]] = {
    county.code: (county.name, *_ANNEX_COUNTS.get(county.code, (0, 0, 0, 0))) for county in COUNTIES
}
_OTHER_CAUSES = (1, 2, 3, 4, 5, 7, 9)
_CAUSE_WEIGHTS = (35, 20, 10, 8, 10, 12, 5)
_D = dt.date


def annex_plan(rng: random.Random) -> list[tuple[str, str, int]]:
    """Every Annex 2 household as (county code, kind, members), shuffled: 556 small tuples."""
    plan = []
    for code, (unstable, unstable_persons, epidemic, epidemic_persons) in _ANNEX_COUNTS.items():
        plan += [(code, UNSTABLE, size) for size in _sizes(rng, unstable, unstable_persons)]
        plan += [(code, EPIDEMIC, size) for size in _sizes(rng, epidemic, epidemic_persons)]
    rng.shuffle(plan)
    return plan


def _sizes(rng: random.Random, households: int, persons: int) -> list[int]:
    """Household sizes of 1-8 that add up to exactly `persons`."""
    sizes = [1] * households
    extra = persons - households
    while extra:
        index = rng.randrange(households)
        if sizes[index] < 8:
            sizes[index] += 1
            extra -= 1
    return sizes


def emit(rng: random.Random, household: Household, sink: Sink) -> None:
    size = len(household.members)
    if household.registered_poor:
        sbnd = rng.randint(2014, 2019)
        lifted = household.annex == UNSTABLE or rng.random() < 0.97
        tpnd = rng.randint(max(sbnd + 1, 2016), 2020) if lifted else ""
        row = (household.number, spell(rng, household.head.id, 0.05), size, sbnd, tpnd, household.xzqh)
        sink.write("poverty/pkh.csv", row)
    if household.monitored:
        sink.write("poverty/jcdx.csv", _monitoring(rng, household, size))


def _causes(rng: random.Random, epidemic: bool) -> str:
    causes = set(rng.choices(_OTHER_CAUSES, weights=_CAUSE_WEIGHTS, k=rng.choice((1, 1, 2))))
    if epidemic:
        if rng.random() < 0.5:
            causes = set()
        causes.add(EPIDEMIC_CAUSE)
    return ";".join(str(cause) for cause in sorted(causes))


def _monitoring(rng: random.Random, household: Household, size: int) -> tuple[object, ...]:
    """One jcdx row. Only Annex 2 households are "lifted but unstable" (jclx 1) or name cause 6,
    and they all still carry their risk, so the Annex 2 counts come out exactly."""
    if household.annex == UNSTABLE:
        jclx, fxyy = 1, _causes(rng, epidemic=False)
        nrrq = between(rng, _D(2020, 6, 1), _D(2021, 12, 31))
    elif household.annex == EPIDEMIC:
        jclx, fxyy = rng.choice((2, 3)), _causes(rng, epidemic=True)
        nrrq = between(rng, _D(2020, 3, 1), _D(2022, 12, 31))
    else:
        jclx, fxyy = rng.choice((2, 3)), _causes(rng, epidemic=False)
        nrrq = between(rng, _D(2021, 1, 4), _D(2026, 10, 31))
    eliminated = household.annex is None and rng.random() < 0.45
    if eliminated:
        xcrq = between(rng, nrrq + dt.timedelta(days=90), LAST_DAY).isoformat()
        income = rng.randint(9000, 20000)
    else:
        xcrq = ""
        income = rng.randint(5000, 11000) if jclx == 1 else rng.randint(4000, 15000)
    return (household.number, jclx, fxyy, size, nrrq.isoformat(), int(eliminated), xcrq, income)
