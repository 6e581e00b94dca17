"""Medical insurance records: enrolment with contribution subsidy, and settlements (amounts in yuan)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import medical as department
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import ContributionSubsidy, InsuranceScheme, SettlementKind
from schema.records import Part, Source, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="Insurance enrolment for one year.")
class InsuranceRecord:
    id_number: str | None
    year: int | None
    scheme: InsuranceScheme | None
    personal_contribution: Decimal | None
    subsidised_amount: Decimal | None
    subsidy_category: ContributionSubsidy | None
    source: Source | None


@strawberry.type(description="A settled outpatient or inpatient episode; amounts in yuan.")
class SettlementRecord:
    settlement_id: str | None
    id_number: str | None
    kind: SettlementKind | None
    from_date: dt.date | None
    to_date: dt.date | None
    total_cost: Decimal | None
    basic_insurance_paid: Decimal | None
    critical_illness_paid: Decimal | None
    medical_assistance_paid: Decimal | None
    out_of_pocket: Decimal | None
    diagnosis_code: str | None = strawberry.field(description="ICD-10 code of the main diagnosis.")
    source: Source | None


@strawberry.type(description="Medical-insurance records about one person.")
class PersonMedical:
    id_number: strawberry.Private[str]

    @strawberry.field
    @reads((department.INSURANCE, "id_number"))
    def insurance(self, info: Info) -> list[InsuranceRecord]:
        found = info.context.records(department.INSURANCE, "id_number", self.id_number)
        return build_all(info.context.access, InsuranceRecord, department.INSURANCE, found)

    @strawberry.field
    @reads((department.SETTLEMENT, "id_number"))
    def settlements(self, info: Info) -> list[SettlementRecord]:
        found = info.context.records(department.SETTLEMENT, "id_number", self.id_number)
        return build_all(info.context.access, SettlementRecord, department.SETTLEMENT, found)


PARTS = (Part("Person", PersonMedical, lambda person: PersonMedical(id_number=person["id_number"])),)
