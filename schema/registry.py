"""Persons and households: the population base every department's records hang off."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import strawberry

from adapters import civil_affairs
from adapters import registry as department
from adapters.store import Record
from auth.access import Access
from resolvers.context import Context
from resolvers.prefetch import plan_for, prefetch, reads
from resolvers.rules.regions import county_of
from schema.enums import Gender, Relation, ResidenceKind
from schema.income import IncomeAssessment, assessment_of
from schema.parts import HolderParts
from schema.records import Source, build

Info = strawberry.Info[Context, None]

PERSON_PARTS = HolderParts("Person")
HOUSEHOLD_PARTS = HolderParts("Household")
# The type checker accepts a base class made at run time only under a name typed Any.
_PersonParts: Any = PERSON_PARTS.fields
_HouseholdParts: Any = HOUSEHOLD_PARTS.fields


@strawberry.type(description="A resident, as registered (户籍), with every department's records about them.")
class Person(_PersonParts):
    id_number: str | None = strawberry.field(description="The 18-character resident id (GB 11643), upper-case X.")
    name: str | None
    gender: Gender | None
    birth_date: str | None = strawberry.field(description="YYYY-MM-DD, or only the year where the policy masks it.")
    age: int | None = strawberry.field(description="Age in whole years today.")
    phone: str | None
    relation_to_head: Relation | None
    household_number: str | None
    source: Source | None
    # Each department's field (civilAffairs, education, ...) is inherited: schema.parts.
    # The keys themselves, for the resolvers below: the fields above may be withheld from the caller.
    household_key: strawberry.Private[str]

    @classmethod
    def from_record(cls, access: Access, record: Record) -> Person:
        return build(
            access,
            cls,
            department.PERSONS,
            record,
            age=_age(record["birth_date"], access.today),
            household_key=record["household_number"],
            **PERSON_PARTS.of(record),
        )

    @strawberry.field
    @reads((department.HOUSEHOLDS, "household_number"))
    def household(self, info: Info) -> Household | None:
        if info.context.access.withholds("Person", "household"):
            return None
        found = info.context.records(department.HOUSEHOLDS, "household_number", self.household_key)
        return Household.from_record(info.context.access, found[0]) if found else None


@strawberry.type(description="A registered household (户), keyed by its household number (户号).")
class Household(_HouseholdParts):
    household_number: str | None
    region_code: str | None = strawberry.field(
        description="12-digit statistical division code of the village or community."
    )
    address: str | None
    residence_kind: ResidenceKind | None
    county_code: str | None = strawberry.field(description="The 6-digit county code (GB/T 2260).")
    source: Source | None
    # Each department's field is inherited, as for Person.
    key: strawberry.Private[str]
    stored: strawberry.Private[Record]

    @classmethod
    def from_record(cls, access: Access, record: Record) -> Household:
        return build(
            access,
            cls,
            department.HOUSEHOLDS,
            record,
            key=record["household_number"],
            stored=record,
            county_code=county_of(record["region_code"]),
            **HOUSEHOLD_PARTS.of(record),
        )

    @strawberry.field(description="Registered members, head first.")
    @reads((department.PERSONS, "household_number"))
    def members(self, info: Info) -> list[Person] | None:
        if info.context.access.withholds("Household", "members"):
            return None
        found = info.context.records(department.PERSONS, "household_number", self.key)
        return [Person.from_record(info.context.access, record) for record in sorted(found, key=_head_first)]

    @strawberry.field(description="The income assessment of the latest economic check, with its working.")
    @reads((civil_affairs.ECONOMIC_CHECK, "household_number"))
    def income_assessment(self, info: Info) -> IncomeAssessment | None:
        if info.context.access.withholds("Household", "incomeAssessment"):
            return None
        return assessment_of(info, self.stored)


def _age(birth_date: dt.date | None, today: dt.date) -> int | None:
    if birth_date is None:
        return None
    return today.year - birth_date.year - ((today.month, today.day) < (birth_date.month, birth_date.day))


def _head_first(record: Record) -> tuple[int, str]:
    return (0 if record["relation_to_head"] == "HEAD" else 1, record["id_number"])


ROOTS: dict[type, str] = {Person: "id_number", Household: "household_number"}
"""The types a prefetch starts from, and the key each is found by."""


async def prefetch_for(info: Info, cls: type, records: Sequence[Record], path: tuple[str, ...] = ()) -> None:
    """Fetch ahead everything the selection under these persons or households will read."""
    await prefetch(info.context, plan_for(info, cls, ROOTS, path), records, ROOTS[cls])


async def show_household(info: Info, record: Record) -> Household:
    """A household the caller may see (resolvers/lookups.py decided), with its picture fetched ahead."""
    await prefetch_for(info, Household, [record])
    return Household.from_record(info.context.access, record)


async def show_person(info: Info, record: Record) -> Person:
    """A person the caller may see (resolvers/lookups.py decided), with their picture fetched ahead."""
    await prefetch_for(info, Person, [record])
    return Person.from_record(info.context.access, record)
