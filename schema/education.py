"""Education records: enrolment (学籍) and student aid granted (学生资助)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import strawberry

from adapters import education as department
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.enums import AidProgramme, EnrolmentStatus, Stage
from schema.records import Part, Source, build_all

Info = strawberry.Info[Context, None]


@strawberry.type(description="A student's enrolment in one term.")
class EnrolmentRecord:
    id_number: str | None
    school_code: str | None
    school_name: str | None
    stage: Stage | None
    grade: int | None
    term: str | None = strawberry.field(description="YYYY-YYYY-1 (autumn) or YYYY-YYYY-2 (spring).")
    status: EnrolmentStatus | None
    source: Source | None


@strawberry.type(description="Student aid granted in one term.")
class StudentAidRecord:
    id_number: str | None
    term: str | None
    programme: AidProgramme | None
    amount: Decimal | None
    paid_on: dt.date | None
    source: Source | None


@strawberry.type(description="Education records about one person.")
class PersonEducation:
    id_number: strawberry.Private[str]

    @strawberry.field
    @reads((department.ENROLMENT, "id_number"))
    def enrolments(self, info: Info) -> list[EnrolmentRecord]:
        found = info.context.records(department.ENROLMENT, "id_number", self.id_number)
        return build_all(info.context.access, EnrolmentRecord, department.ENROLMENT, found)

    @strawberry.field
    @reads((department.STUDENT_AID, "id_number"))
    def aid(self, info: Info) -> list[StudentAidRecord]:
        found = info.context.records(department.STUDENT_AID, "id_number", self.id_number)
        return build_all(info.context.access, StudentAidRecord, department.STUDENT_AID, found)


PARTS = (Part("Person", PersonEducation, lambda person: PersonEducation(id_number=person["id_number"])),)
