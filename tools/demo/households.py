"""Households and their members for the demo population, with the circumstances departments record."""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from itertools import accumulate

from tools.demo import names
from tools.demo.dates import TODAY, age_on
from tools.demo.ids import IdIssuer
from tools.demo.places import COUNTIES, County, place_household

HEAD, SPOUSE, CHILD, PARENT, GRANDCHILD, SIBLING = "01", "02", "03", "04", "05", "06"
# Cumulative weights (choices() would re-add plain weights on every call).
_SIZE_CUM = tuple(accumulate((20, 24, 22, 17, 9, 5, 2, 1)))  # 1..8 persons: a mean of 3.0 per household
_GRADE_CUM = tuple(accumulate((15, 25, 30, 30)))
_CATEGORY_CUM = tuple(accumulate((12, 15, 3, 40, 10, 12, 8)))
_SIZES, _CATEGORIES, _GRADES = range(1, 9), range(1, 8), range(1, 5)
DIBAO_STATES = ("active", "exit", "ended", "inconsistent")
_DIBAO_STATE_WEIGHTS = (72, 10, 14, 4)


@dataclass(slots=True)
class Person:
    id: str  # canonical 18 characters
    name: str
    male: bool
    birth: dt.date
    age: int  # on TODAY
    relation: str
    phone: str
    legacy: bool  # the registry still stores the 15-digit form
    disability: tuple[int, int] | None = None  # (category 1-7, grade 1-4)
    chronic: bool = False


@dataclass(slots=True)
class Household:
    number: str
    county: County
    xzqh: str
    address: str
    urban: bool
    members: list[Person]
    annex: str | None = None  # "unstable" or "epidemic" for an Annex 2 household
    skipped_generation: bool = False  # grandparents raising grandchildren
    dibao: str | None = None  # one of DIBAO_STATES
    tekun: list[Person] = field(default_factory=list)
    registered_poor: bool = False
    monitored: bool = False

    @property
    def head(self) -> Person:
        return self.members[0]

    @property
    def needy(self) -> bool:
        """Covered by a means-tested programme or a poverty register: departments look harder at it."""
        return self.dibao in ("active", "exit", "inconsistent") or bool(self.tekun) or self.registered_poor


class HouseholdFactory:
    """Builds one household at a time; keeps only a household counter per county."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._ids = IdIssuer(len(COUNTIES))
        self._sequence = [0] * len(COUNTIES)

    def build(self, county: County, size: int | None = None, annex: str | None = None) -> Household:
        rng = self._rng
        if size is None:
            size = rng.choices(_SIZES, cum_weights=_SIZE_CUM)[0]
        self._sequence[county.index] += 1
        if self._sequence[county.index] > 999_999:
            raise RuntimeError(f"county {county.code} has run out of 6-digit household numbers")
        number = f"{county.code}{self._sequence[county.index]:06d}"
        xzqh, address, urban = place_household(rng, county)
        plan, skipped = _plan(rng, size)
        household = Household(number, county, xzqh, address, urban, self._people(county, plan), annex, skipped)
        _circumstances(rng, household)
        return household

    def fresh_person(self, county: County, age: int, relation: str) -> Person:
        """A person with a new id who belongs to no household (for extra, invalid registry rows)."""
        return self._people(county, [(relation, age, self._rng.random() < 0.5)])[0]

    def _people(self, county: County, plan: list[tuple[str, int, bool]]) -> list[Person]:
        rng = self._rng
        family = names.family_surname(rng)
        ethnic = family == names.ETHNIC
        has_spouse = any(relation == SPOUSE for relation, _, _ in plan)
        head_male = plan[0][2]
        head_surname = family if head_male or not has_spouse or ethnic else names.other_surname(rng)
        people = []
        for relation, age, male in plan:
            if ethnic or relation in (CHILD, GRANDCHILD) or (relation == SPOUSE and male):
                surname = family
            elif relation in (HEAD, SIBLING) or (relation == PARENT and male):
                surname = head_surname
            else:
                surname = names.other_surname(rng)
            person_id, birth = self._ids.issue(county, TODAY.year - age, male)
            actual = age_on(birth, TODAY)
            people.append(
                Person(
                    person_id,
                    names.full_name(rng, surname, male),
                    male,
                    birth,
                    actual,
                    relation,
                    names.phone(rng, actual),
                    birth.year < 2000 and rng.random() < 0.05,
                )
            )
        return people


def _plan(rng: random.Random, size: int) -> tuple[list[tuple[str, int, bool]], bool]:
    """[(relation, age, male)] for a household of `size`, and whether it skips a generation."""
    coin = rng.random
    if size == 1:
        age = rng.randint(60, 96) if coin() < 0.55 else rng.randint(19, 59)
        return [(HEAD, age, coin() < 0.5)], False
    if size <= 5 and coin() < 0.03:
        head = rng.randint(55, 80)
        male = coin() < 0.6
        plan = [(HEAD, head, male)]
        if size >= 3 and coin() < 0.6:
            plan.append((SPOUSE, min(100, max(50, head + rng.randint(-4, 4))), not male))
        plan += [(GRANDCHILD, rng.randint(1, 16), coin() < 0.5) for _ in range(size - len(plan))]
        return plan, True
    head = rng.randint(60, 90) if size == 2 and coin() < 0.5 else rng.randint(24, 72)
    male = coin() < 0.8  # most households are registered under a man
    plan = [(HEAD, head, male)]
    if coin() < 0.88:
        plan.append((SPOUSE, max(20, min(100, head + rng.randint(-6, 4))), not male))
    rest = size - len(plan)
    if head < 45:
        parents = min(rest, rng.choice((0, 0, 1, 2))) if size >= 4 else 0
        plan += [(CHILD, rng.randint(0, min(head - 20, 20)), coin() < 0.5) for _ in range(rest - parents)]
        plan += [(PARENT, rng.randint(head + 22, min(head + 35, 98)), coin() < 0.45) for _ in range(parents)]
    elif head < 65:
        parents = min(rest, rng.choice((0, 0, 1, 1, 2)))
        children = min(rest - parents, rng.randint(1, 3))
        plan += [(PARENT, rng.randint(head + 20, min(head + 35, 100)), coin() < 0.45) for _ in range(parents)]
        plan += [(CHILD, rng.randint(max(0, head - 40), head - 20), coin() < 0.5) for _ in range(children)]
        plan += [
            (GRANDCHILD, rng.randint(0, max(0, head - 45)), coin() < 0.5) for _ in range(rest - parents - children)
        ]
    else:
        children = min(rest, rng.randint(0, 2))
        plan += [(CHILD, rng.randint(30, head - 20), coin() < 0.5) for _ in range(children)]
        plan += [(GRANDCHILD, rng.randint(0, min(25, head - 45)), coin() < 0.5) for _ in range(rest - children)]
    return plan, False


def _circumstances(rng: random.Random, household: Household) -> None:
    """Disability, illness and programme membership, drawn so that they go together as in life."""
    for person in household.members:
        age = person.age
        if rng.random() < (0.006 if age < 18 else 0.015 if age < 60 else 0.05 if age < 80 else 0.10):
            category = rng.choices(_CATEGORIES, cum_weights=_CATEGORY_CUM)[0]
            person.disability = (category, rng.choices(_GRADES, cum_weights=_GRADE_CUM)[0])
        person.chronic = rng.random() < (0.03 if age < 40 else 0.15 if age < 60 else 0.40)
    members = household.members
    severe = [p for p in members if p.disability and p.disability[1] <= 2]
    disabled = any(p.disability for p in members)
    # Extreme poverty: old or severely disabled people without anyone else to support them.
    if len(members) <= 2 and all(p.age >= 60 or p in severe for p in members):
        if rng.random() < (0.3 if severe else 0.06):
            household.tekun = list(members)
    if not household.tekun:
        sick = sum(p.chronic for p in members)
        old_head = household.head.age >= 65
        chance = 0.006 + 0.05 * old_head + 0.12 * disabled + 0.04 * (sick >= 2) + 0.01 * (not household.urban)
        if household.annex:
            chance += 0.15
        if rng.random() < chance:
            household.dibao = rng.choices(DIBAO_STATES, weights=_DIBAO_STATE_WEIGHTS)[0]
    if household.dibao or household.tekun:
        # Poverty follows illness: many assisted households carry more chronic disease.
        for person in members:
            if not person.chronic and person.age >= 18 and rng.random() < 0.2:
                person.chronic = True
    if household.annex == "unstable":
        household.registered_poor = True
    elif household.annex == "epidemic":
        household.registered_poor = rng.random() < 0.4
    else:
        base = 0.003 if household.urban else 0.03
        household.registered_poor = rng.random() < base + 0.25 * (household.dibao is not None)
    household.monitored = household.annex is not None or (rng.random() < 0.006 + 0.12 * household.registered_poor)
