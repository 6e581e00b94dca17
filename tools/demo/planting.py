"""Which general households receive the planted cases of tools/demo/planted.py, and planting them.

The planter never draws from the generator's random stream: it chooses by the household's place in
the stream and its members, and draws its own values from a stream of its own seeded by the demo's
seed. So every household that gets no case is written exactly as before planting existed, and a
planted household keeps its members and every record outside the files its case owns.

Cases go out evenly over the first 70% of the general households (leaving room for cases whose
member is rare, e.g. someone aged exactly 18), the rarest kinds of member first, and a case goes to
a county it has not been planted in yet while the stream is in its first half: so the cases of a
rule are spread across counties.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from tools.demo.households import Household
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
    pending: list[Case] = field(init=False)
    total: int = field(init=False)
    planted: int = 0
    _counties: dict[str, set[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.rng = random.Random(f"aidgraph-demo-planted-{self.seed}")
        order = {kind: rank for rank, kind in enumerate(_RARITY)}
        wanted = [case for case in CASES for _ in range(count(case, self.households))]
        self.pending = sorted(wanted, key=lambda case: order[case.subject])  # stable: catalogue order within
        self.total = len(self.pending)

    def choose(self, index: int, household: Household, *, clean: bool) -> Case | None:
        """The case the `index`-th general household gets, if any; `clean` says it has no bad row or HIV
        patient (bad rows and the HIV diagnoses are checked by their own tests and stay where they are)."""
        if not self.pending or not clean or household.monitored or household.annex is not None:
            return None
        due = min(self.total, int(self.total * (index + 1) / max(1.0, self.households * _SPREAD)) + 1)
        if self.planted >= due or not _may_change(household):
            return None
        early = index < self.households / 2
        for position, case in enumerate(self.pending):
            if subject_of(case, household) is None:
                continue
            used = self._counties.setdefault(case.name, set())
            if early and household.county.code in used:
                continue
            used.add(household.county.code)
            self.planted += 1
            return self.pending.pop(position)
        return None

    def plant(self, case: Case, household: Household, sink: Sink) -> None:
        """Write the household's held rows except the case's files, then the case's own records."""
        owned = OWNED[case.target]
        sink.release(owned)
        person = subject_of(case, household)
        assert person is not None  # choose() only picks a case whose member the household has
        PLANTS[case.name](Planting(self.rng, household, person, sink))
        sink.note_planted(
            {
                "case": case.name,
                "target": case.target,
                "fires": case.fires,
                "household": household.number,
                "person": "" if case.subject == "household" else person.id,
            }
        )


def _may_change(household: Household) -> bool:
    if household.number in _README_HOUSEHOLDS:
        return False
    if household.county.code == _README_COUNTY:
        return not any(person.age in _README_AGES for person in household.members)
    return True
