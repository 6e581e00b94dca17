"""Civil-affairs records of a demo household: dibao, extreme poverty, temporary aid, child welfare, checks."""

from __future__ import annotations

import datetime as dt
import random

from tools.demo.dates import LAST_DAY, add_months, between
from tools.demo.households import CHILD, GRANDCHILD, Household, Person
from tools.demo.ids import spell
from tools.demo.places import COUNTIES, County
from tools.demo.sink import Sink

STANDARD_YEARS = (2024, 2025, 2026)
# Richer coastal cities pay more; every standard rises by 30 yuan a year.
_COUNTY_UPLIFT = (30, 30, 10, 10, 10, 0, 0, 0, 40, 40, 20)
_CAUSE_WEIGHTS = {1: 35, 2: 8, 3: 10, 4: 8, 5: 12, 6: 3, 7: 10, 9: 14}
_LEGACY = 0.03  # civil-affairs systems still hold some 15-digit ids
_D = dt.date


def standard(county: County, year: int, urban: bool) -> int:
    """Monthly dibao standard per person in yuan (bzbz): urban ~930-1030, rural ~830-930."""
    year = min(max(year, STANDARD_YEARS[0]), STANDARD_YEARS[-1])
    return (930 if urban else 830) + 30 * (year - 2024) + _COUNTY_UPLIFT[county.index]


def write_standards(sink: Sink) -> None:
    for county in COUNTIES:
        for year in STANDARD_YEARS:
            for cxlb, urban in ((1, True), (2, False)):
                sink.write("civil_affairs/bzbz.csv", (county.code, year, cxlb, standard(county, year, urban)))


def money(value: float) -> str:
    return f"{value:.2f}"


def emit(rng: random.Random, household: Household, sink: Sink) -> None:
    if household.dibao:
        _dibao(rng, household, sink)
    elif household.registered_poor or household.monitored:
        _checks(rng, household, sink, rng.choice(((0.4, 0.9), (1.1, 1.9), (1.1, 1.9), (2.2, 3.5))), None)
    for person in household.tekun:
        _tekun(rng, household, person, sink)
    _child_welfare(rng, household, sink)
    needy = household.needy or household.monitored
    chance = 0.10 if needy else 0.012 + 0.02 * any(p.chronic for p in household.members)
    while rng.random() < chance:
        _temporary_aid(rng, household, sink)
        chance /= 4


def _dibao(rng: random.Random, household: Household, sink: Sink) -> None:
    state = household.dibao
    members = household.members
    zzrq = jtqjz = None
    if state == "ended":
        qsrq = between(rng, _D(2018, 1, 1), _D(2023, 12, 31))
        zzrq = between(rng, _D(2024, 3, 1), _D(2025, 10, 31))
        jtqjz = add_months(zzrq, 12) if rng.random() < 0.5 else None
    elif state == "exit":
        qsrq = between(rng, _D(2019, 1, 1), _D(2025, 6, 30))
        zzrq = between(rng, _D(2025, 12, 1), _D(2026, 10, 31))
        jtqjz = add_months(zzrq, 12)
    else:
        qsrq = between(rng, _D(2017, 1, 1), _D(2026, 10, 31))
    if len(members) > 1 and rng.random() < 0.2:
        # Single-person dibao goes to the member who cannot work: severely disabled, ill or old.
        covered = max(members, key=lambda p: (bool(p.disability), p.chronic, p.age))
        bzlx, sfzh, bzrs = 2, spell(rng, covered.id, _LEGACY), 1
    else:
        bzlx, sfzh, bzrs = 1, "", len(members)
    level = standard(household.county, qsrq.year, household.urban)
    amount = money(round(bzrs * level * rng.uniform(0.45, 0.95)))
    row = (household.number, bzlx, sfzh, bzrs, amount, qsrq.isoformat(), _iso(zzrq), _iso(jtqjz))
    sink.write("civil_affairs/dibao.csv", row)
    below = (0.25, 0.85)
    if state in ("active", None):
        _checks(rng, household, sink, below, None)
    elif state == "inconsistent":
        _checks(rng, household, sink, below, None, latest=(1.2, 1.8))
    else:
        _checks(rng, household, sink, below, zzrq, latest=(1.15, 1.9))


def _checks(
    rng: random.Random,
    household: Household,
    sink: Sink,
    ratio: tuple[float, float],
    before: dt.date | None,
    latest: tuple[float, float] | None = None,
) -> None:
    """1-3 economic checks; the last one decides, with a per-capita income of `latest` x the standard.

    Incomes are built backwards from the wanted per-capita amount with the assessment rule of
    DESIGN §4, keeping clear of the thresholds so rounding never flips a household's class.
    """
    members = household.members
    last = (before - dt.timedelta(days=10)) if before else LAST_DAY
    first = _D(2024, 1, 2)
    count = rng.randint(1, 3)
    days = sorted({between(rng, first, last) for _ in range(count)})
    pensioners = sum(p.age >= 60 for p in members)
    for number, day in enumerate(days):
        low, high = latest if latest and number == len(days) - 1 else ratio
        level = standard(household.county, day.year, household.urban)
        net = round(rng.uniform(low, high) * level * len(members) * 12)
        medical = rng.randint(1000, 20000) if any(p.chronic for p in members) and rng.random() < 0.7 else 0
        schooling = rng.randint(500, 8000) if any(5 <= p.age <= 22 for p in members) else 0
        base = net + medical + schooling
        # Capped at 40% of the rest, the claim stays under the 30%-of-counted-income limit.
        employment = min(rng.randint(0, 12000), int(0.4 * base)) if rng.random() < 0.6 else 0
        pension = pensioners * rng.randint(1500, 3000)
        row = (
            household.number,
            day.isoformat(),
            len(members),
            base + employment + pension,
            medical,
            schooling,
            employment,
            pension,
        )
        sink.write("civil_affairs/hdxx.csv", row)


def _tekun(rng: random.Random, household: Household, person: Person, sink: Sink) -> None:
    grade = person.disability[1] if person.disability else 5
    zlnl = 3 if grade == 1 else 2 if grade == 2 or person.age >= 85 else 1
    gyfs = 1 if rng.random() < (0.6 if zlnl == 3 else 0.2) else 2
    level = standard(household.county, 2026, household.urban)
    care = (0, 0, 200, 600)[zlnl]
    qsrq = between(rng, _D(2015, 1, 1), _D(2026, 10, 31))
    zzrq = between(rng, qsrq + dt.timedelta(days=60), LAST_DAY) if rng.random() < 0.05 else None
    row = (spell(rng, person.id, _LEGACY), zlnl, gyfs, money(round(level * 1.3) + care), qsrq.isoformat(), _iso(zzrq))
    sink.write("civil_affairs/tekun.csv", row)


def _child_welfare(rng: random.Random, household: Household, sink: Sink) -> None:
    members = household.members
    severe_parent = any(p.relation in ("01", "02") and p.disability and p.disability[1] <= 2 for p in members)
    for person in members:
        if person.age >= 18:
            continue
        if household.skipped_generation and person.relation == GRANDCHILD:
            chance = 0.4
        elif severe_parent and person.relation == CHILD:
            chance = 0.5  # a child whose parents cannot care for them is "de facto unsupported"
        else:
            continue
        if rng.random() >= chance:
            continue
        lb = rng.choices((1, 2, 3), weights=(5, 30, 65))[0] if household.skipped_generation else 3
        start = max(person.birth, _D(2019, 1, 1))
        qsrq = between(rng, start, _D(2026, 10, 31))
        amount = money(1900 if lb == 1 else 1450)
        sink.write("civil_affairs/ertong.csv", (spell(rng, person.id), lb, amount, qsrq.isoformat(), ""))


def _temporary_aid(rng: random.Random, household: Household, sink: Sink) -> None:
    adults = [p for p in household.members if p.age >= 18] or household.members
    applicant = rng.choice(adults)
    cause = rng.choices(list(_CAUSE_WEIGHTS), weights=list(_CAUSE_WEIGHTS.values()))[0]
    emergency = cause in (4, 5) or (cause in (1, 6) and rng.random() < 0.3)
    sqrq = between(rng, _D(2024, 1, 2), LAST_DAY)
    paid = sqrq + dt.timedelta(days=rng.randint(3, 40))
    ffrq = paid if paid <= LAST_DAY and rng.random() < 0.95 else None
    amount = rng.randint(50, 2000) * 10 if cause != 9 else rng.randint(30, 300) * 10
    row = (
        f"LS{sqrq.year}{sink.serial('lsjz'):07d}",
        spell(rng, applicant.id, _LEGACY),
        household.number,
        1 if emergency else 2,
        cause,
        money(amount),
        sqrq.isoformat(),
        _iso(ffrq),
    )
    sink.write("civil_affairs/lsjz.csv", row)


def _iso(day: dt.date | None) -> str:
    return day.isoformat() if day else ""
