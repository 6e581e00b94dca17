"""Persons and households: the population base every department's records hang off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import strawberry

from adapters import registry as department
from adapters.store import Record
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

    @classmethod
    def from_record(cls, record: Record) -> Person:
        return build(cls, department.PERSONS, record)

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

    @strawberry.field
    def civil_affairs(self) -> PersonCivilAffairs | None:
        return PersonCivilAffairs(id_number=self.id_number, household_number=self.household_number)

    @strawberry.field
    def education(self) -> PersonEducation | None:
        return PersonEducation(id_number=self.id_number)

    @strawberry.field
    def medical(self) -> PersonMedical | None:
        return PersonMedical(id_number=self.id_number)

    @strawberry.field(description="Houses this person owns or is supported in.")
    def housing(self) -> Housing | None:
        return Housing(key=self.id_number, by="id_number")

    @strawberry.field
    def disability(self) -> PersonDisability | None:
        return PersonDisability(id_number=self.id_number)

    @strawberry.field(description="The poverty-office records of this person's household.")
    def poverty(self) -> HouseholdPoverty | None:
        return HouseholdPoverty(household_number=self.household_number)


@strawberry.type(description="A registered household (户), keyed by its household number (户号).")
class Household:
    household_number: str
    region_code: str = strawberry.field(description="12-digit statistical division code of the village or community.")
    address: str | None
    residence_kind: ResidenceKind | None
    source: Source

    @classmethod
    def from_record(cls, record: Record) -> Household:
        return build(cls, department.HOUSEHOLDS, record)

    @strawberry.field(description="The 6-digit county code (GB/T 2260).")
    def county_code(self) -> str:
        return self.region_code[:6]

    @strawberry.field(description="Registered members, head first.")
    @reads((department.PERSONS, "household_number"))
    def members(self, info: Info) -> list[Person]:
        found = info.context.records(department.PERSONS, "household_number", self.household_number)
        return [Person.from_record(record) for record in sorted(found, key=_head_first)]

    @strawberry.field
    def civil_affairs(self) -> HouseholdCivilAffairs | None:
        return HouseholdCivilAffairs(household_number=self.household_number)

    @strawberry.field
    def housing(self) -> Housing | None:
        return Housing(key=self.household_number, by="household_number")

    @strawberry.field
    def poverty(self) -> HouseholdPoverty | None:
        return HouseholdPoverty(household_number=self.household_number)


def _head_first(record: Record) -> tuple[int, str]:
    return (0 if record["relation_to_head"] == "HEAD" else 1, record["id_number"])


ROOTS: dict[type, str] = {Person: "id_number", Household: "household_number"}
"""The types a prefetch starts from, and the key each is found by."""


async def prefetch_for(info: Info, cls: type, records: Sequence[Record], path: tuple[str, ...] = ()) -> None:
    """Fetch ahead everything the selection under these persons or households will read."""
    await prefetch(info.context, plan_for(info, cls, ROOTS, path), records, ROOTS[cls])


async def find_household(info: Info, household_number: str) -> Household | None:
    await info.context.cache.prefetch([(department.HOUSEHOLDS, "household_number", [household_number])])
    found = info.context.records(department.HOUSEHOLDS, "household_number", household_number)
    await prefetch_for(info, Household, found)
    return Household.from_record(found[0]) if found else None


async def find_person(info: Info, id_number: str) -> Person | None:
    await info.context.cache.prefetch([(department.PERSONS, "id_number", [id_number])])
    found = info.context.records(department.PERSONS, "id_number", id_number)
    await prefetch_for(info, Person, found)
    return Person.from_record(found[0]) if found else None
