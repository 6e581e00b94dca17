"""Persons and households: the population base every department's records hang off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import replace

import strawberry

from adapters import registry as department
from adapters.base import FileSpec
from adapters.store import LoadRequest, Record
from resolvers.context import Context
from resolvers.prefetch import plan_for, prefetch, reads
from schema.civil_affairs import HouseholdCivilAffairs, PersonCivilAffairs
from schema.disability import PersonDisability
from schema.education import PersonEducation
from schema.enums import Gender, Relation, ResidenceKind
from schema.housing import Housing
from schema.medical import PersonMedical
from schema.poverty import HouseholdPoverty
from schema.records import Source, build

Info = strawberry.Info[Context, None]


@strawberry.type(description="A resident, as registered (户籍), with every department's records about them.")
class Person:
    id_number: str = strawberry.field(description="The 18-character resident id (GB 11643), upper-case X.")
    name: str
    gender: Gender | None
    birth_date: dt.date | None
    phone: str | None
    relation_to_head: Relation | None
    household_number: str
    source: Source
    # Each department's part is a plain field, made with the person: it only holds the person's keys,
    # and a resolver per part and person would cost more than the part itself (DESIGN §7).
    civil_affairs: PersonCivilAffairs | None
    education: PersonEducation | None
    medical: PersonMedical | None
    housing: Housing | None = strawberry.field(description="Houses this person owns or is supported in.")
    disability: PersonDisability | None
    poverty: HouseholdPoverty | None = strawberry.field(description="The poverty-office records of their household.")

    @classmethod
    def from_record(cls, record: Record) -> Person:
        id_number, household_number = record["id_number"], record["household_number"]
        return build(
            cls,
            department.PERSONS,
            record,
            civil_affairs=PersonCivilAffairs(id_number=id_number, household_number=household_number),
            education=PersonEducation(id_number=id_number),
            medical=PersonMedical(id_number=id_number),
            housing=Housing(key=id_number, by="id_number"),
            disability=PersonDisability(id_number=id_number),
            poverty=HouseholdPoverty(household_number=household_number),
        )

    @strawberry.field(description="Age in whole years today.")
    def age(self, info: Info) -> int | None:
        if self.birth_date is None:
            return None
        today = info.context.today
        return (
            today.year
            - self.birth_date.year
            - ((today.month, today.day) < (self.birth_date.month, self.birth_date.day))
        )

    @strawberry.field
    @reads((department.HOUSEHOLDS, "household_number"))
    def household(self, info: Info) -> Household | None:
        found = info.context.records(department.HOUSEHOLDS, "household_number", self.household_number)
        return Household.from_record(found[0]) if found else None


@strawberry.type(description="A registered household (户), keyed by its household number (户号).")
class Household:
    household_number: str
    region_code: str = strawberry.field(description="12-digit statistical division code of the village or community.")
    address: str | None
    residence_kind: ResidenceKind | None
    source: Source
    civil_affairs: HouseholdCivilAffairs | None
    housing: Housing | None
    poverty: HouseholdPoverty | None

    @classmethod
    def from_record(cls, record: Record) -> Household:
        household_number = record["household_number"]
        return build(
            cls,
            department.HOUSEHOLDS,
            record,
            civil_affairs=HouseholdCivilAffairs(household_number=household_number),
            housing=Housing(key=household_number, by="household_number"),
            poverty=HouseholdPoverty(household_number=household_number),
        )

    @strawberry.field(description="The 6-digit county code (GB/T 2260).")
    def county_code(self) -> str:
        return self.region_code[:6]

    @strawberry.field(description="Registered members, head first.")
    @reads((department.PERSONS, "household_number"))
    def members(self, info: Info) -> list[Person]:
        found = info.context.records(department.PERSONS, "household_number", self.household_number)
        return [Person.from_record(record) for record in sorted(found, key=_head_first)]


def _head_first(record: Record) -> tuple[int, str]:
    return (0 if record["relation_to_head"] == "HEAD" else 1, record["id_number"])


ROOTS: dict[type, str] = {Person: "id_number", Household: "household_number"}
"""The types a prefetch starts from, and the key each is found by."""


async def prefetch_for(
    info: Info, cls: type, records: Sequence[Record], path: tuple[str, ...] = (), *, itself: FileSpec | None = None
) -> None:
    """Fetch ahead everything the selection under these persons or households will read.

    With `itself`, `records` hold only keys and the roots are read in the same batch as what hangs
    off them (a household's records are keyed by the household number already known).
    """
    fetch_plan = plan_for(info, cls, ROOTS, path)
    if itself is not None:
        fetch_plan = replace(fetch_plan, reads=fetch_plan.reads | {(itself, ROOTS[cls])})
    await prefetch(info.context, fetch_plan, records, ROOTS[cls])


async def find_household(info: Info, household_number: str) -> Household | None:
    await prefetch_for(info, Household, [{"household_number": household_number}], itself=department.HOUSEHOLDS)
    found = info.context.records(department.HOUSEHOLDS, "household_number", household_number)
    return Household.from_record(found[0]) if found else None


async def find_person(info: Info, id_number: str) -> Person | None:
    # A person's household-keyed records need its household number first: two levels.
    await info.context.cache.prefetch([LoadRequest(department.PERSONS, "id_number", [id_number])])
    found = info.context.records(department.PERSONS, "id_number", id_number)
    await prefetch_for(info, Person, found)
    return Person.from_record(found[0]) if found else None
