"""Education records of a demo household: enrolments (xsxj) and student aid granted (xszz)."""

from __future__ import annotations

import datetime as dt
import random

from tools.demo.dates import (
    LAST_DAY,
    PREV_SCHOOL_YEAR_CUTOFF,
    PREV_TERM,
    SCHOOL_YEAR_CUTOFF,
    TERM,
    age_on,
    between,
)
from tools.demo.households import Household, Person
from tools.demo.ids import spell
from tools.demo.places import school, township_of
from tools.demo.sink import Sink

_FINAL_GRADE = {1: 3, 2: 6, 3: 3, 4: 3, 5: 3, 6: 3, 7: 4, 8: 3}
# (item, yuan per term) by stage; 01 national grant, 02 tuition waiver, 03 living subsidy.
_AID = {1: (("02", 750),), 2: (("03", 500),), 3: (("03", 625),), 4: (("01", 1000), ("02", 800))}
_AID.update({5: (("01", 1000), ("02", 1100)), 6: (("01", 1650),), 7: (("01", 2000),), 8: (("01", 3000),)})
_D = dt.date


def stage(age: int, track: float, enrol: float) -> tuple[int, int] | None:
    """(xd, nj) for a pupil of `age` on 31 August, or None when not in education.

    `track` and `enrol` are the pupil's own fixed draws, so both terms agree on their path.
    """
    if 3 <= age <= 5:
        return (1, age - 2) if enrol < 0.85 else None
    if 6 <= age <= 11:
        return (2, age - 5) if enrol < 0.995 else None
    if 12 <= age <= 14:
        return (3, age - 11) if enrol < 0.99 else None
    if 15 <= age <= 17:
        return ((4 if track < 0.75 else 5), age - 14) if enrol < 0.93 else None
    if 18 <= age <= 21 and enrol < 0.55:
        if track < 0.55:
            return 7, age - 17
        return (6, age - 17) if age <= 20 else None
    if 22 <= age <= 24 and enrol < 0.04:
        return 8, age - 21
    return None


def emit(rng: random.Random, household: Household, sink: Sink) -> None:
    township = township_of(household.county, household.xzqh)
    for person in household.members:
        if not 2 <= person.age <= 26:
            continue
        track, enrol = rng.random(), rng.random()
        now = stage(age_on(person.birth, SCHOOL_YEAR_CUTOFF), track, enrol)
        before = stage(age_on(person.birth, PREV_SCHOOL_YEAR_CUTOFF), track, enrol)
        entitled = household.needy or household.monitored or person.disability is not None
        place = None
        if before and rng.random() < 0.6:
            place = school(rng, household.county, township, before[0])
            zt = 3 if before[1] == _FINAL_GRADE[before[0]] else 1
            _enrolment(rng, sink, person, place, before, PREV_TERM, zt)
            if zt == 1:
                _aid(rng, sink, person, before[0], PREV_TERM, entitled, _D(2026, 3, 20), _D(2026, 6, 30))
        if now:
            if place is None or before is None or before[0] != now[0]:
                place = school(rng, household.county, township, now[0])
            roll = rng.random()
            zt = 2 if roll < 0.015 else 4 if roll < 0.025 else 1
            _enrolment(rng, sink, person, place, now, TERM, zt)
            if zt == 1:
                _aid(rng, sink, person, now[0], TERM, entitled, _D(2026, 9, 20), LAST_DAY)


def _enrolment(
    rng: random.Random,
    sink: Sink,
    person: Person,
    place: tuple[str, str],
    where: tuple[int, int],
    term: str,
    zt: int,
) -> None:
    row = (spell(rng, person.id), place[0], place[1], where[0], where[1], term, zt)
    sink.write("education/xsxj.csv", row)


def _aid(
    rng: random.Random,
    sink: Sink,
    person: Person,
    xd: int,
    term: str,
    entitled: bool,
    first: dt.date,
    last: dt.date,
) -> None:
    """Most entitled students got their aid; the rest are what proactive identification is for."""
    if entitled and rng.random() < 0.7:
        items = list(_AID[xd])
        if xd in (6, 7) and term == TERM and rng.random() < 0.3:
            items.append(("04", rng.choice((6000, 8000, 12000))))
    elif rng.random() < 0.01:
        items = [("05", 1000)]
    else:
        return
    paid = between(rng, first, last)
    for item, amount in items:
        sink.write("education/xszz.csv", (spell(rng, person.id), term, item, f"{amount:.2f}", paid.isoformat()))
