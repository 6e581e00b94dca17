"""Set-based reads over a whole region, pushed into SQL (the same statements on SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from adapters import poverty, registry
from adapters import vocabulary as v
from adapters.store import Record
from resolvers.rules.regions import Region, county_sql, in_regions

_households = registry.HOUSEHOLDS.table
_monitored = poverty.MONITORED.table


def _in_region(regions: Sequence[str]) -> sa.ColumnElement[bool]:
    return in_regions(_households.c.region_code, [Region(region) for region in regions])


def households_page(
    connection: sa.Connection, *, regions: Sequence[str], after: str | None, limit: int
) -> list[Record]:
    """Households of the regions in household-number order, starting after the cursor's household."""
    query = sa.select(_households).where(_in_region(regions)).order_by(_households.c.household_number).limit(limit)
    if after is not None:
        query = query.where(_households.c.household_number > after)
    found: list[Record] = []
    found.extend(dict(row._mapping) for row in connection.execute(query))
    return found


def count_households(connection: sa.Connection, *, regions: Sequence[str]) -> int:
    return connection.execute(
        sa.select(sa.func.count()).select_from(_households).where(_in_region(regions))
    ).scalar_one()


@dataclass(frozen=True)
class KeyTargetCounts:
    county_code: str
    unstable_households: int
    unstable_persons: int
    epidemic_households: int
    epidemic_persons: int


def key_target_counts(connection: sa.Connection, *, regions: Sequence[str]) -> list[KeyTargetCounts]:
    """Monitored households still at risk, by county: lifted-but-unstable, and affected by the epidemic.

    A household counts once, by its latest monitoring record; persons are that record's count.
    """
    latest = (
        sa.select(
            _monitored,
            sa.func.row_number()
            .over(partition_by=_monitored.c.household_number, order_by=_monitored.c.entered_on.desc())
            .label("newest"),
        )
    ).subquery()
    county = county_sql(_households.c.region_code).label("county_code")
    unstable = latest.c.kind == v.MonitoringKind.LIFTED_UNSTABLE.name
    epidemic = latest.c.risk_causes.like(f"%{v.Cause.EPIDEMIC.name}%")
    persons = sa.func.coalesce(latest.c.persons, 0)

    def total(condition: sa.ColumnElement[bool], value: Any) -> sa.ColumnElement[int]:
        return sa.func.coalesce(sa.func.sum(sa.case((condition, value), else_=0)), 0)

    query = (
        sa.select(
            county,
            total(unstable, 1),
            total(unstable, persons),
            total(epidemic, 1),
            total(epidemic, persons),
        )
        .select_from(latest.join(_households, _households.c.household_number == latest.c.household_number))
        .where(latest.c.newest == 1, sa.not_(sa.func.coalesce(latest.c.risk_eliminated, False)), _in_region(regions))
        .group_by(county)
        .order_by(county)
    )
    return [
        KeyTargetCounts(str(row[0]), int(row[1]), int(row[2]), int(row[3]), int(row[4]))
        for row in connection.execute(query)
    ]
