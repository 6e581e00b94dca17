"""Housing records: dangerous-house assessments, renovations and housing support."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import housing as department
from adapters.base import FileSpec
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import HouseGrade, HousingSupportKind, RenovationKind, RenovationStatus
from schema.records import Part, Source, T, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="A dangerous-house assessment (危房鉴定); grades C and D are dangerous.")
class HouseAssessmentRecord:
    assessment_number: str | None
    id_number: str | None = strawberry.field(description="The owner.")
    household_number: str | None
    assessed_on: dt.date | None
    grade: HouseGrade | None
    assessed_by: str | None
    source: Source | None


@strawberry.type(description="A dangerous-house renovation project (危房改造).")
class RenovationRecord:
    project_number: str | None
    id_number: str | None
    household_number: str | None
    kind: RenovationKind | None
    area: Decimal | None = strawberry.field(description="Square metres.")
    subsidy: Decimal | None
    status: RenovationStatus | None
    approved_on: dt.date | None
    remarks: str | None
    source: Source | None


@strawberry.type(description="Housing support (住房保障): a public rental flat or a rent subsidy.")
class HousingSupportRecord:
    id_number: str | None
    household_number: str | None
    kind: HousingSupportKind | None
    monthly_amount: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    source: Source | None


@strawberry.type(description="Housing records of a person (as owner or beneficiary) or of a household.")
class Housing:
    key: strawberry.Private[str]
    by: strawberry.Private[str]

    def _load(self, info: Info, spec: FileSpec, cls: type[T]) -> list[T]:
        return build_all(info.context.access, cls, spec, info.context.records(spec, self.by, self.key))

    # No `by` in @reads: these read by the key of whoever holds them (person id or household number).
    @strawberry.field
    @reads(department.ASSESSMENT)
    def assessments(self, info: Info) -> list[HouseAssessmentRecord]:
        return self._load(info, department.ASSESSMENT, HouseAssessmentRecord)

    @strawberry.field
    @reads(department.RENOVATION)
    def renovations(self, info: Info) -> list[RenovationRecord]:
        return self._load(info, department.RENOVATION, RenovationRecord)

    @strawberry.field
    @reads(department.SUPPORT)
    def support(self, info: Info) -> list[HousingSupportRecord]:
        return self._load(info, department.SUPPORT, HousingSupportRecord)


PARTS = (
    Part(
        "Person",
        Housing,
        lambda person: Housing(key=person["id_number"], by="id_number"),
        description="Houses this person owns or is supported in.",
    ),
    Part("Household", Housing, lambda household: Housing(key=household["household_number"], by="household_number")),
)
