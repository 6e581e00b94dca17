"""Query logic of the population entry points: one household, one person, a region's households."""

from __future__ import annotations

from dataclasses import dataclass

from adapters import fields, idnumber, queries
from adapters.divisions import COUNTY_NAMES, counties_under
from adapters.store import Record
from resolvers.context import Context
from resolvers.cursors import CursorKind
from resolvers.pagination import page_size, region_prefix
from resolvers.records import bad_input

CURSOR = CursorKind("household", fields.household_number)


def canonical_id(text: str) -> str:
    try:
        return idnumber.normalize(text)
    except idnumber.InvalidIdNumber as error:
        raise bad_input(f"idNumber: {error}") from None


def checked_household_number(text: str) -> str:
    """The household number asked for, in the format the departments' files are held to (adapters.fields)."""
    try:
        return fields.household_number(text)
    except ValueError as error:
        raise bad_input(f"householdNumber: {error}") from None


@dataclass(frozen=True)
class HouseholdPage:
    records: list[Record]
    cursors: list[str]
    has_next_page: bool
    total_count: int


def households_page(context: Context, *, region: str, first: int | None, after: str | None) -> HouseholdPage:
    regions = context.access.visible(region_prefix(region))
    limit = page_size(first)
    start_after = context.cursors.open(CURSOR, after)
    connection = context.connection()
    # One row more than asked tells whether another page follows.
    found = queries.households_page(connection, regions=regions, after=start_after, limit=limit + 1)
    page = found[:limit]
    return HouseholdPage(
        records=page,
        cursors=[context.cursors.seal(CURSOR, record["household_number"]) for record in page],
        has_next_page=len(found) > limit,
        total_count=queries.count_households(connection, regions=regions),
    )


@dataclass(frozen=True)
class DistributionRow:
    county_code: str
    county_name: str | None
    unstable_households: int
    unstable_persons: int
    epidemic_households: int
    epidemic_persons: int


def key_target_distribution(context: Context, *, region: str) -> list[DistributionRow]:
    """Every known county of the region the caller may see, with zeros where no household is a key target.

    Only households inside the caller's regions are counted.
    """
    regions = context.access.visible(region_prefix(region))
    counts = {row.county_code: row for row in queries.key_target_counts(context.connection(), regions=regions)}
    known = {county for prefix in regions for county in counties_under(prefix)}
    rows = []
    for county in sorted(known | set(counts)):
        found = counts.get(county)
        rows.append(
            DistributionRow(
                county_code=county,
                county_name=COUNTY_NAMES.get(county),
                unstable_households=found.unstable_households if found else 0,
                unstable_persons=found.unstable_persons if found else 0,
                epidemic_households=found.epidemic_households if found else 0,
                epidemic_persons=found.epidemic_persons if found else 0,
            )
        )
    return rows
