"""Housing records: dangerous-house assessments, renovations and housing support."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import housing as department
from adapters.base import FileSpec
from resolvers.context import Context
from resolvers.records import records
from schema.enums import HouseGrade, HousingSupportKind, RenovationKind, RenovationStatus
from schema.records import Source, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="A dangerous-house assessment (危房鉴定); grades C and D are dangerous.")
class HouseAssessmentRecord:
    assessment_number: str
    id_number: str = strawberry.field(description="The owner.")
    household_number: str | None
    assessed_on: dt.date
    grade: HouseGrade
    assessed_by: str | None
    source: Source


@strawberry.type(description="A dangerous-house renovation project (危房改造).")
class RenovationRecord:
    project_number: str
    id_number: str
    household_number: str | None
    kind: RenovationKind | None
    area: Decimal | None = strawberry.field(description="Square metres.")
    subsidy: Decimal | None
    status: RenovationStatus | None
    approved_on: dt.date | None
    remarks: str | None
    source: Source


@strawberry.type(description="Housing support (住房保障): a public rental flat or a rent subsidy.")
class HousingSupportRecord:
    id_number: str
    household_number: str | None
    kind: HousingSupportKind
    monthly_amount: Decimal | None
    start_date: dt.date
    end_date: dt.date | None
    source: Source


@strawberry.type(description="Housing records of a person (as owner or beneficiary) or of a household.")
class Housing:
    key: strawberry.Private[str]
    by: strawberry.Private[str]

    async def _load(self, info: Info, spec: FileSpec, cls: type) -> list:
        return build_all(cls, spec, await records(info.context, spec, by=self.by, key=self.key))

    @strawberry.field
    async def assessments(self, info: Info) -> list[HouseAssessmentRecord]:
        return await self._load(info, department.ASSESSMENT, HouseAssessmentRecord)

    @strawberry.field
    async def renovations(self, info: Info) -> list[RenovationRecord]:
        return await self._load(info, department.RENOVATION, RenovationRecord)

    @strawberry.field
    async def support(self, info: Info) -> list[HousingSupportRecord]:
        return await self._load(info, department.SUPPORT, HousingSupportRecord)
