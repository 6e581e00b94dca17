"""Civil affairs records: dibao, extreme-poverty support, temporary assistance, child welfare, checks."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import civil_affairs as department
from resolvers.context import Context
from resolvers.prefetch import reads
from resolvers.rules import dibao
from schema.enums import (
    Cause,
    ChildWelfareCategory,
    DibaoCoverage,
    SelfCare,
    SupportMode,
    TemporaryAssistanceKind,
)
from schema.records import Part, Source, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="A minimum living guarantee (低保) award, for a whole household or one person.")
class DibaoRecord:
    household_number: str | None
    coverage: DibaoCoverage | None
    id_number: str | None = strawberry.field(description="The covered person, for a single-person award.")
    persons_covered: int | None
    monthly_amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None = strawberry.field(description="Empty while the award is active.")
    gradual_exit_until: dt.date | None = strawberry.field(description="End of the 12-month gradual-exit window.")
    source: Source | None


@strawberry.type(description="Extreme-poverty support (特困供养).")
class ExtremePovertyRecord:
    id_number: str | None
    self_care: SelfCare | None
    support_mode: SupportMode | None
    monthly_amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    source: Source | None


@strawberry.type(description="A temporary assistance case (临时救助).")
class TemporaryAssistanceRecord:
    case_number: str | None
    id_number: str | None = strawberry.field(description="The applicant.")
    household_number: str | None
    kind: TemporaryAssistanceKind | None
    cause: Cause | None
    amount: Decimal | None
    applied_on: dt.date | None
    paid_on: dt.date | None
    source: Source | None


@strawberry.type(description="Basic living allowance of an orphan or de facto unsupported child.")
class ChildWelfareRecord:
    id_number: str | None
    category: ChildWelfareCategory | None
    monthly_amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    source: Source | None


@strawberry.type(description="A household economic-status check (家庭经济状况核对); amounts are annual yuan.")
class EconomicCheckRecord:
    household_number: str | None
    checked_on: dt.date | None
    persons: int | None
    annual_income: Decimal | None
    medical_expense: Decimal | None
    education_expense: Decimal | None
    employment_cost: Decimal | None
    basic_pension: Decimal | None = strawberry.field(description="Received, but not counted as income.")
    source: Source | None


@strawberry.type(description="Civil-affairs records about one person.")
class PersonCivilAffairs:
    id_number: strawberry.Private[str]
    household_number: strawberry.Private[str]

    @strawberry.field(
        description="Dibao covering this person: single-person awards naming them and awards to their household."
    )
    @reads((department.DIBAO, "id_number"), (department.DIBAO, "household_number"))
    def dibao(self, info: Info) -> list[DibaoRecord]:
        named = info.context.records(department.DIBAO, "id_number", self.id_number)
        of_household = info.context.records(department.DIBAO, "household_number", self.household_number)
        awards = [*of_household, *named]
        covering = dibao.covering(awards, id_number=self.id_number, household_number=self.household_number)
        return build_all(info.context.access, DibaoRecord, department.DIBAO, covering)

    @strawberry.field
    @reads((department.EXTREME_POVERTY, "id_number"))
    def extreme_poverty(self, info: Info) -> list[ExtremePovertyRecord]:
        found = info.context.records(department.EXTREME_POVERTY, "id_number", self.id_number)
        return build_all(info.context.access, ExtremePovertyRecord, department.EXTREME_POVERTY, found)

    @strawberry.field
    @reads((department.CHILD_WELFARE, "id_number"))
    def child_welfare(self, info: Info) -> list[ChildWelfareRecord]:
        found = info.context.records(department.CHILD_WELFARE, "id_number", self.id_number)
        return build_all(info.context.access, ChildWelfareRecord, department.CHILD_WELFARE, found)

    @strawberry.field(description="Temporary assistance cases this person applied for.")
    @reads((department.TEMPORARY_ASSISTANCE, "id_number"))
    def temporary_assistance(self, info: Info) -> list[TemporaryAssistanceRecord]:
        found = info.context.records(department.TEMPORARY_ASSISTANCE, "id_number", self.id_number)
        return build_all(info.context.access, TemporaryAssistanceRecord, department.TEMPORARY_ASSISTANCE, found)


@strawberry.type(description="Civil-affairs records about one household.")
class HouseholdCivilAffairs:
    household_number: strawberry.Private[str]

    @strawberry.field(description="Every dibao award of the household, whole-household and single-person.")
    @reads((department.DIBAO, "household_number"))
    def dibao(self, info: Info) -> list[DibaoRecord]:
        found = info.context.records(department.DIBAO, "household_number", self.household_number)
        return build_all(info.context.access, DibaoRecord, department.DIBAO, found)

    @strawberry.field
    @reads((department.ECONOMIC_CHECK, "household_number"))
    def economic_checks(self, info: Info) -> list[EconomicCheckRecord]:
        found = info.context.records(department.ECONOMIC_CHECK, "household_number", self.household_number)
        return build_all(info.context.access, EconomicCheckRecord, department.ECONOMIC_CHECK, found)

    @strawberry.field
    @reads((department.TEMPORARY_ASSISTANCE, "household_number"))
    def temporary_assistance(self, info: Info) -> list[TemporaryAssistanceRecord]:
        spec = department.TEMPORARY_ASSISTANCE
        found = info.context.records(spec, "household_number", self.household_number)
        return build_all(info.context.access, TemporaryAssistanceRecord, spec, found)


PARTS = (
    Part(
        "Person",
        PersonCivilAffairs,
        lambda person: PersonCivilAffairs(id_number=person["id_number"], household_number=person["household_number"]),
    ),
    Part(
        "Household",
        HouseholdCivilAffairs,
        lambda household: HouseholdCivilAffairs(household_number=household["household_number"]),
    ),
)
