"""A department the hub does not have, defined only here: human resources' employment contracts.

It is written as a new department would be, in the places docs/architecture.md names: its files and
labels (adapters side), its record type and part (schema side). Its store table is declared on a
metadata of its own, so it never joins the hub's tables (the migration test compares those).
"""

from __future__ import annotations

import datetime as dt
import sys
from decimal import Decimal
from enum import Enum

import sqlalchemy as sa
import strawberry

from adapters import columns as c
from adapters.base import Department, FileSpec, Labels, labelled
from resolvers.context import Context
from resolvers.prefetch import reads
from schema.records import Part, Source, build_all

Info = strawberry.Info[Context, None]

# --- adapters side: its files and its labels --------------------------------------------------------------


class ContractKind(Enum):
    """A code table of its own: beside its files, not in the shared vocabulary no other department uses."""

    FIXED_TERM = "fixed term"
    OPEN_ENDED = "open-ended"


KIND = {"1": ContractKind.FIXED_TERM, "2": ContractKind.OPEN_ENDED}

TABLES = sa.MetaData()
"""Its store tables, created by the test (`TABLES.create_all`) where a real department has a migration."""

CONTRACT = FileSpec(
    department="employment",
    name="ldht",
    table_name="employment_contract",
    columns=(
        c.id_number("sfzh"),
        c.text("dwmc", "employer", required=True),
        c.code("htlx", "kind", KIND),
        c.yuan("ygz", "monthly_wage"),
        c.date("qsrq", "start_date", required=True),
        c.date("zzrq", "end_date"),
    ),
    key=("id_number", "employer", "start_date"),
    lookups=("id_number",),
    checks=(c.starts_before_end,),
    declared_on=TABLES,
)

DEPARTMENT = Department(
    name="employment",
    encoding="utf-8-sig",
    files=(CONTRACT,),
    labels=Labels(
        part_types={"Person": "PersonEmployment"},
        part_label="personal",
        records={
            "EmploymentRecord": labelled(
                public="source", personal="idNumber employer kind startDate endDate", sensitive="monthlyWage"
            )
        },
    ),
)

# --- schema side: its record type and its part --------------------------------------------------------------

strawberry.enum(ContractKind)


@strawberry.type(description="An employment contract (劳动合同).")
class EmploymentRecord:
    id_number: str | None
    employer: str | None
    kind: ContractKind | None
    monthly_wage: Decimal | None
    start_date: dt.date | None
    end_date: dt.date | None
    source: Source | None


@strawberry.type(description="Human-resources records about one person.")
class PersonEmployment:
    id_number: strawberry.Private[str]

    @strawberry.field
    @reads((CONTRACT, "id_number"))
    def contracts(self, info: Info) -> list[EmploymentRecord]:
        found = info.context.records(CONTRACT, "id_number", self.id_number)
        return build_all(info.context.access, EmploymentRecord, CONTRACT, found)


PARTS = (Part("Person", PersonEmployment, lambda person: PersonEmployment(id_number=person["id_number"])),)


def register() -> None:
    """Register it as its one line in adapters/catalog.py and in schema/parts.py would.

    Only in a fresh interpreter: Person takes its department fields when schema.registry is imported.
    """
    if "schema.registry" in sys.modules:
        raise RuntimeError("too late: Person and Household are made already, without the employment part")
    from adapters.catalog import DEPARTMENTS
    from schema.parts import PARTS as REGISTERED_PARTS

    DEPARTMENTS["employment"] = DEPARTMENT
    REGISTERED_PARTS["employment"] = PARTS
