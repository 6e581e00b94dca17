"""Disability federation records: certificates and the two subsidies."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import disability as department
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import DisabilityCategory, DisabilitySubsidyKind
from schema.records import Part, Source, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="A disability certificate (残疾人证); grade 1 is the most severe.")
class DisabilityCertificate:
    id_number: str | None
    certificate_number: str | None
    category: DisabilityCategory | None
    grade: int | None
    issued_on: dt.date | None
    valid_until: dt.date | None
    source: Source | None


@strawberry.type(description="One of the two disability subsidies (两项补贴).")
class DisabilitySubsidyRecord:
    id_number: str | None
    kind: DisabilitySubsidyKind | None
    monthly_amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    source: Source | None


@strawberry.type(description="Disability-federation records about one person.")
class PersonDisability:
    id_number: strawberry.Private[str]

    @strawberry.field(description="Every certificate the person has held, newest first.")
    @reads((department.CERTIFICATE, "id_number"))
    def certificates(self, info: Info) -> list[DisabilityCertificate]:
        found = info.context.records(department.CERTIFICATE, "id_number", self.id_number)
        newest_first = sorted(found, key=lambda r: r["issued_on"] or dt.date.min, reverse=True)
        return build_all(info.context.access, DisabilityCertificate, department.CERTIFICATE, newest_first)

    @strawberry.field(description="The newest certificate, expired or not (see validUntil).")
    @reads((department.CERTIFICATE, "id_number"))
    def certificate(self, info: Info) -> DisabilityCertificate | None:
        certificates = self.certificates(info)
        return certificates[0] if certificates else None

    @strawberry.field
    @reads((department.SUBSIDY, "id_number"))
    def subsidies(self, info: Info) -> list[DisabilitySubsidyRecord]:
        found = info.context.records(department.SUBSIDY, "id_number", self.id_number)
        return build_all(info.context.access, DisabilitySubsidyRecord, department.SUBSIDY, found)


PARTS = (Part("Person", PersonDisability, lambda person: PersonDisability(id_number=person["id_number"])),)
