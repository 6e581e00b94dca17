"""Department records for the warnings tests, written straight into the store's current tables."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, disability, medical, poverty, registry
from adapters.base import FileSpec
from tests.world import make_id

D = dt.date(2026, 12, 1)  # the as-of day of every scan here
NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
EXPORTED = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
REGION = "350583101201"
HOUSEHOLD = "350583000101"
OTHER = "350583000102"
HEAD = make_id("350583", "19600101", 31, male=True)
SPOUSE = make_id("350583", "19620202", 32, male=False)
OTHER_HEAD = make_id("350583", "19700303", 33, male=True)


def put(connection: sa.Connection, spec: FileSpec, **values: Any) -> str:
    """One current record of `spec` (unnamed columns empty); returns its record key."""
    row = {column.name: values.get(column.name) for column in spec.columns}
    key = "|".join("" if row[name] is None else str(row[name]) for name in spec.key)
    connection.execute(
        spec.table.insert().values(
            record_key=key, row_hash="0" * 32, as_of=EXPORTED, valid_from=EXPORTED, ingest_run=None, **row
        )
    )
    return key


def household(connection: sa.Connection, number: str = HOUSEHOLD, *members: str, region: str = REGION) -> None:
    put(connection, registry.HOUSEHOLDS, household_number=number, region_code=region, residence_kind="RURAL")
    for index, id_number in enumerate(members or ((HEAD, SPOUSE) if number == HOUSEHOLD else (OTHER_HEAD,))):
        put(
            connection,
            registry.PERSONS,
            id_number=id_number,
            name=f"member {index}",
            household_number=number,
        )


def settlement(
    connection: sa.Connection,
    number: str,
    id_number: str,
    out_of_pocket: str,
    *,
    discharged: dt.date | None,
    **more: Any,
) -> str:
    admitted = more.pop("admitted", (discharged or D) - dt.timedelta(days=5))
    return put(
        connection,
        medical.SETTLEMENT,
        settlement_id=number,
        id_number=id_number,
        kind="INPATIENT",
        from_date=admitted,
        to_date=discharged,
        out_of_pocket=Decimal(out_of_pocket),
        **more,
    )


def certificate(connection: sa.Connection, id_number: str, number: str, *, grade: int, issued: dt.date | None) -> str:
    return put(
        connection,
        disability.CERTIFICATE,
        id_number=id_number,
        certificate_number=number,
        category="PHYSICAL",
        grade=grade,
        issued_on=issued,
    )


def temporary_case(
    connection: sa.Connection,
    number: str,
    *,
    cause: str,
    applied: dt.date,
    emergency: bool,
    household_number: str | None,
) -> str:
    return put(
        connection,
        civil_affairs.TEMPORARY_ASSISTANCE,
        case_number=number,
        id_number=HEAD,
        household_number=household_number,
        kind="EMERGENCY" if emergency else "EXPENDITURE",
        cause=cause,
        applied_on=applied,
        amount=Decimal("800.00"),
    )


def standard(connection: sa.Connection, monthly: str, *, year: int = 2026) -> None:
    put(
        connection,
        civil_affairs.DIBAO_STANDARD,
        county_code=REGION[:6],
        year=year,
        residence_kind="RURAL",
        monthly_standard=Decimal(monthly),
    )


def check(connection: sa.Connection, number: str, *, on: dt.date, annual_income: str, persons: int = 2) -> str:
    return put(
        connection,
        civil_affairs.ECONOMIC_CHECK,
        household_number=number,
        checked_on=on,
        persons=persons,
        annual_income=Decimal(annual_income),
    )


def dibao(connection: sa.Connection, number: str, *, start: dt.date, end: dt.date | None = None) -> str:
    return put(
        connection,
        civil_affairs.DIBAO,
        household_number=number,
        coverage="WHOLE_HOUSEHOLD",
        start_date=start,
        end_date=end,
        monthly_amount=Decimal("600.00"),
    )


def registered_poor(connection: sa.Connection, number: str, *, year: int | None) -> str:
    return put(connection, poverty.REGISTERED_POOR, household_number=number, registered_year=year)


def monitored(connection: sa.Connection, number: str, *, entered: dt.date, eliminated: dt.date | None = None) -> str:
    return put(
        connection,
        poverty.MONITORED,
        household_number=number,
        kind="MARGINAL",
        entered_on=entered,
        risk_eliminated=eliminated is not None,
        eliminated_on=eliminated,
    )
