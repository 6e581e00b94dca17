"""Poverty-office records: registered poor households (建档立卡) and monitored households."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import poverty as department
from adapters.store import Record
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import Cause, MonitoringKind
from schema.records import Source, build

Info = strawberry.Info[Context, None]


@strawberry.type(description="A registered poor household (建档立卡贫困户).")
class RegisteredPoorRecord:
    household_number: str
    head_id_number: str | None
    persons: int | None
    registered_year: int | None
    lifted_year: int | None = strawberry.field(description="Year lifted out of poverty; empty if not yet.")
    region_code: str | None
    source: Source


@strawberry.type(description="A household monitored against (re)falling into poverty (防返贫监测对象).")
class MonitoredHouseholdRecord:
    household_number: str
    kind: MonitoringKind
    risk_causes: list[Cause]
    persons: int | None
    entered_on: dt.date
    risk_eliminated: bool | None
    eliminated_on: dt.date | None
    per_capita_income: Decimal | None = strawberry.field(description="Annual net income per person, yuan.")
    source: Source


def _monitored(record: Record) -> MonitoredHouseholdRecord:
    causes = record["risk_causes"]
    item = build(MonitoredHouseholdRecord, department.MONITORED, {**record, "risk_causes": None})
    item.risk_causes = [Cause[name] for name in causes.split(";")] if causes else []
    return item


@strawberry.type(description="Poverty-office records about one household.")
class HouseholdPoverty:
    household_number: strawberry.Private[str]

    @strawberry.field
    @reads((department.REGISTERED_POOR, "household_number"))
    def registered_poor(self, info: Info) -> RegisteredPoorRecord | None:
        found = info.context.records(department.REGISTERED_POOR, "household_number", self.household_number)
        return build(RegisteredPoorRecord, department.REGISTERED_POOR, found[0]) if found else None

    @strawberry.field
    @reads((department.MONITORED, "household_number"))
    def monitoring(self, info: Info) -> list[MonitoredHouseholdRecord]:
        found = info.context.records(department.MONITORED, "household_number", self.household_number)
        return [_monitored(record) for record in found]
