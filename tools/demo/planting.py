"""Which general households receive the planted cases of tools/demo/planted.py, and planting them.

The planter never draws from the generator's random stream: it chooses by the household's place in
the stream and its members, and draws its own values from a stream of its own seeded by the demo's
seed. So every household that gets no case is written exactly as before planting existed, and a
planted household keeps its members and every record outside the files its case owns.

Cases go out evenly over the first 70% of the general households (leaving room for cases whose
member is rare, e.g. someone aged exactly 18), the rarest kinds of member first, and while the
stream is in its first half a case goes only to the counties where it has been planted least: so the
cases of a rule are spread across counties.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field

from tools.demo.households import Household
from tools.demo.places import BY_CODE
from tools.demo.planted import CASES, Case, count
from tools.demo.plants import OWNED, PLANTS, Planting, subject_of
from tools.demo.sink import Sink

_SPREAD = 0.7
# The members some cases need, rarest first: those cases are tried first.
_RARITY = ("eighteen", "pupil", "child", "adult", "eldest", "household")
# The README's examples show these households and the first students of 南安市 by id (born 2002 and
# 2005): planting must leave them as they are, so 南安市 households with members of 18-26 (the
# ages that could sort before them) get no case either.
_README_HOUSEHOLDS = frozenset({"350583000006", "350583000110", "350583000601"})
_README_COUNTY, _README_AGES = "350583", range(18, 27)


@dataclass
class Planter:
    households: int
    seed: int
    rng: random.Random = field(init=False)
    pending: dict[Case, int] = field(init=False)  # the cases still to plant, rarest members first
    total: int = field(init=False)
    planted: int = 0
    _counties: dict[str, Counter[str]] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"aidgraph-demo-planted-{self.seed}")
        order = {kind: rank for rank, kind in enumerate(_RARITY)}
        cases = sorted(CASES, key=lambda case: order[case.subject])  # stable: catalogue order within a kind
        self.pending = {case: count(case, self.households) for case in cases if count(case, self.households)}
        self.total = sum(self.pending.values())
        self._counties = {case.name: Counter(dict.fromkeys(BY_CODE, 0)) for case in CASES}

    def choose(self, index: int, household: Household, *, clean: bool) -> Case | None:
        """The case the `index`-th general household gets, if any; `clean` says it has no bad row or HIV
        patient (bad rows and the HIV diagnoses are checked by their own tests and stay where they are)."""
        if not self.pending or not clean or household.monitored or household.annex is not None:
            return None
        due = min(self.total, int(self.total * (index + 1) / max(1.0, self.households * _SPREAD)) + 1)
        if self.planted >= due or not _may_change(household):
            return None
        early = index < self.households / 2
        county = household.county.code
        for case in self.pending:
            used = self._counties[case.name]
            # Early on, a case waits for a county where it has been planted least.
            if (early and used[county] > min(used.values())) or subject_of(case, household) is None:
                continue
            used[county] += 1
            self.planted += 1
            self.pending[case] -= 1
            if not self.pending[case]:
                del self.pending[case]
            return case
        return None

    def plant(self, case: Case, household: Household, sink: Sink) -> None:
        """Write the household's held rows except the case's files, then the case's own records."""
        owned = OWNED[case.target]
        sink.release(owned)
        person = subject_of(case, household)
        assert person is not None  # choose() only picks a case whose member the household has
        PLANTS[case.name](Planting(self.rng, household, person, sink))
        # Short entries: a million-person demo holds some 17,000. Rule and verdict are the catalogue's.
        entry = {"case": case.name, "hh": household.number}
        if case.subject != "household":
            entry["sfzh"] = person.id
        sink.note_planted(entry)


def _may_change(household: Household) -> bool:
    if household.number in _README_HOUSEHOLDS:
        return False
    if household.county.code == _README_COUNTY:
        return not any(person.age in _README_AGES for person in household.members)
    return True
