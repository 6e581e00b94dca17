"""Poverty-office records: registered poor households (建档立卡) and monitored households."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import poverty as department
from adapters.store import Record
from auth.access import Access
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import Cause, MonitoringKind
from schema.records import Part, Source, build

Info = strawberry.Info[Context, None]


@strawberry.type(description="A registered poor household (建档立卡贫困户).")
class RegisteredPoorRecord:
    household_number: str | None
    head_id_number: str | None
    persons: int | None
    registered_year: int | None
    lifted_year: int | None = strawberry.field(description="Year lifted out of poverty; empty if not yet.")
    region_code: str | None
    source: Source | None


@strawberry.type(description="A household monitored against (re)falling into poverty (防返贫监测对象).")
class MonitoredHouseholdRecord:
    household_number: str | None
    kind: MonitoringKind | None
    risk_causes: list[Cause] | None
    persons: int | None
    entered_on: dt.date | None
    risk_eliminated: bool | None
    eliminated_on: dt.date | None
    per_capita_income: Decimal | None = strawberry.field(description="Annual net income per person, yuan.")
    source: Source | None


def _monitored(access: Access, record: Record) -> MonitoredHouseholdRecord:
    causes = record["risk_causes"]
    listed = [Cause[name] for name in causes.split(";")] if causes else []
    return build(access, MonitoredHouseholdRecord, department.MONITORED, {**record, "risk_causes": listed})


@strawberry.type(description="Poverty-office records about one household.")
class HouseholdPoverty:
    household_number: strawberry.Private[str]

    @strawberry.field
    @reads((department.REGISTERED_POOR, "household_number"))
    def registered_poor(self, info: Info) -> RegisteredPoorRecord | None:
        found = info.context.records(department.REGISTERED_POOR, "household_number", self.household_number)
        return build(info.context.access, RegisteredPoorRecord, department.REGISTERED_POOR, found[0]) if found else None

    @strawberry.field
    @reads((department.MONITORED, "household_number"))
    def monitoring(self, info: Info) -> list[MonitoredHouseholdRecord]:
        found = info.context.records(department.MONITORED, "household_number", self.household_number)
        return [_monitored(info.context.access, record) for record in found]


PARTS = (
    Part(
        "Person",
        HouseholdPoverty,
        lambda person: HouseholdPoverty(household_number=person["household_number"]),
        description="The poverty-office records of their household.",
    ),
    Part(
        "Household",
        HouseholdPoverty,
        lambda household: HouseholdPoverty(household_number=household["household_number"]),
    ),
)
