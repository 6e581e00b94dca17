"""Medical-insurance records of a demo household: enrolment (cbxx) and settlements (jsxx), in fen."""

from __future__ import annotations

import datetime as dt
import random

from resolvers.rules import special
from tools.demo.dates import LAST_DAY, between, compact
from tools.demo.households import Household, Person
from tools.demo.ids import spell
from tools.demo.sink import Sink

YEARS = (2025, 2026)
RESIDENT_CONTRIBUTION = {2025: 40000, 2026: 42000}  # fen per person and year
# Demo patients get the codes of HIV disease and infection status, not the laboratory or pregnancy ones.
HIV_CODES = tuple(code for code in special.HIV_CODES if code.startswith(("B", "Z")))
_SUBSIDY_SHARE = {0: 0.0, 1: 1.0, 2: 0.8, 3: 0.5, 9: 0.5}
_LEGACY = 0.03
_OUTPATIENT = ("J06.9", "I10", "E11.9", "K29.7", "M17.9", "J18.9", "A09")
_CHRONIC = ("I10", "E11.9", "N18.5", "F20.9", "J44.9", "I25.1", "C34.9", "G40.9")
_INPATIENT = ("I63.9", "J18.9", "C34.9", "N18.5", "K80.2", "I25.1", "S72.0", "J44.9", "C16.9", "K35.8")
_CHILD_INPATIENT = ("J18.9", "K35.8", "J06.9", "A09")


def emit(rng: random.Random, household: Household, sink: Sink, hiv: Person | None) -> None:
    covered = household.dibao in ("active", "exit", "inconsistent")
    for person in household.members:
        tekun = person in household.tekun
        _enrolment(rng, household, person, sink, covered, tekun)
        _settlements(rng, person, sink, covered or tekun, person is hiv)


def _enrolment(rng: random.Random, household: Household, person: Person, sink: Sink, dibao: bool, tekun: bool) -> None:
    if rng.random() < 0.03:
        return  # never enrolled: one of the gaps the comparison looks for
    employee = 22 <= person.age <= 59 and rng.random() < 0.3
    if tekun:
        zzlb = 1
    elif dibao:
        zzlb = 2
    elif household.monitored:
        zzlb = 3
    elif household.registered_poor:
        zzlb = 9
    else:
        zzlb = 0
    if zzlb and rng.random() < 0.08:
        zzlb = 0  # subsidy missed: what the comparison (rule 6) must find
    for year in YEARS:
        if person.birth.year > year or (year == 2026 and rng.random() < 0.04):
            continue
        if employee:
            due, xzlx, kind = rng.randint(800, 3000) * 100, 2, 0
        else:
            due, xzlx, kind = RESIDENT_CONTRIBUTION[year], 1, zzlb
        subsidy = int(due * _SUBSIDY_SHARE[kind])
        row = (spell(rng, person.id, _LEGACY), year, xzlx, due - subsidy, subsidy, kind)
        sink.write("medical/cbxx.csv", row)


def _settlements(rng: random.Random, person: Person, sink: Sink, assisted: bool, hiv: bool) -> None:
    boost = 1.8 if assisted else 1.0
    old = person.age >= 60
    if hiv:
        for _ in range(rng.randint(1, 2)):
            _settle(rng, person, sink, 3, rng.choice(HIV_CODES), assisted)
    if rng.random() < (0.15 + 0.25 * person.chronic) * boost:
        _settle(rng, person, sink, 1, rng.choice(_OUTPATIENT), assisted)
    if person.chronic and rng.random() < 0.5 * boost:
        _settle(rng, person, sink, 3, rng.choice(_CHRONIC), assisted)
    if rng.random() < (0.04 + 0.05 * old + 0.08 * person.chronic) * boost:
        if person.age < 14:
            code = rng.choice(_CHILD_INPATIENT)
        elif not person.male and 20 <= person.age <= 40 and rng.random() < 0.4:
            code = "O80"
        else:
            code = rng.choice(_INPATIENT)
        _settle(rng, person, sink, 2, code, assisted)


def _settle(rng: random.Random, person: Person, sink: Sink, lx: int, code: str, assisted: bool) -> None:
    """One settlement; costs are split the way the insurers pay: basic, critical illness, assistance."""
    first = max(dt.date(2025, 1, 1), person.birth)
    if lx == 2:
        stay = rng.randint(2, 25)
        last = LAST_DAY - dt.timedelta(days=stay)
        if first > last:
            return  # born too recently for a stay of that length
        admitted = between(rng, first, last)
        discharged = admitted + dt.timedelta(days=stay)
        total = int(rng.lognormvariate(10.3, 0.8)) * 100  # median ~30,000 yuan, long tail
        basic = int(total * rng.uniform(0.55, 0.7))
        threshold = 750_000 if assisted else 1_500_000
        critical = int((total - basic - threshold) * 0.6) if total - basic > threshold else 0
    else:
        admitted = discharged = between(rng, first, LAST_DAY)
        total = rng.randint(30, 600) * 100 if lx == 1 else rng.randint(200, 4000) * 100
        basic = int(total * (rng.uniform(0.4, 0.55) if lx == 1 else rng.uniform(0.6, 0.7)))
        critical = 0
    remaining = total - basic - critical
    # Most assisted patients got medical assistance; the others are gaps for comparison rule 4.
    assistance = int(remaining * 0.7) if assisted and lx != 1 and rng.random() < 0.85 else 0
    row = (
        f"JS{sink.serial('jsxx'):010d}",
        spell(rng, person.id, _LEGACY),
        lx,
        compact(admitted),
        compact(discharged),
        total,
        basic,
        critical,
        assistance,
        remaining - assistance,
        code,
    )
    sink.write("medical/jsxx.csv", row)
