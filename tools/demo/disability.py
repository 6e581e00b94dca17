"""Disability-federation records of a demo household: certificates (cjr) and the two subsidies (lxbt)."""

from __future__ import annotations

import datetime as dt
import random

from tools.demo.dates import LAST_DAY, between, end_of_period
from tools.demo.households import Household
from tools.demo.ids import spell
from tools.demo.sink import Sink

_D = dt.date
LIVING, NURSING = 1, 2


def emit(rng: random.Random, household: Household, sink: Sink) -> None:
    hardship = household.dibao in ("active", "exit", "inconsistent") or bool(household.tekun)
    for person in household.members:
        if person.disability is None:
            continue
        category, grade = person.disability
        # Most certificates are current (10-year validity); some old ones expired without renewal.
        if rng.random() < 0.15 and person.birth < _D(2010, 1, 4):
            issued = between(rng, max(_D(2010, 1, 4), person.birth), _D(2016, 6, 30))
        else:
            issued = between(rng, max(_D(2017, 1, 3), person.birth), LAST_DAY)
        valid_until = end_of_period(issued, 120)
        sfzh = spell(rng, person.id)
        certificate = f"{person.id}{category}{grade}"
        sink.write(
            "disability/cjr.csv",
            (sfzh, certificate, category, grade, issued.isoformat(), valid_until.isoformat()),
        )
        start = max(issued, _D(2016, 1, 1))
        # Some who qualify do not get a subsidy yet: comparison rule 2 is about them.
        if hardship and rng.random() < 0.8:
            _subsidy(rng, sink, sfzh, LIVING, 80, start)
        if grade <= 2 and rng.random() < 0.75:
            _subsidy(rng, sink, sfzh, NURSING, 100 if grade == 1 else 70, start)


def _subsidy(rng: random.Random, sink: Sink, sfzh: str, kind: int, amount: int, first: dt.date) -> None:
    qsrq = between(rng, first, LAST_DAY)
    zzrq = between(rng, qsrq, LAST_DAY) if rng.random() < 0.05 else None
    row = (sfzh, kind, f"{amount:.2f}", qsrq.isoformat(), zzrq.isoformat() if zzrq else "")
    sink.write("disability/lxbt.csv", row)
