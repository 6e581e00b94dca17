"""Look-ups by key (a person, a household): where it belongs is read first, and nothing more when it is not visible.

A key outside the caller's regions and a key never issued must not be told apart, by the answer or by
the time it takes (an existence oracle). So the one record that decides where a person or household
belongs is read on its own (a household; a person with its household, one statement on PostgreSQL),
its region checked (resolvers/rules/regions.py, through `Access.covers`), and only a visible record
has the rest of its picture read. Both kinds of miss are noted on the request's access for the audit
trail (`Access.misses`), and a client may miss only so often per minute (`auth.limiter.MissLimit`): past that, its
look-ups are refused with RATE_LIMITED, whatever they would have found.
"""

from __future__ import annotations

from adapters import registry as department
from adapters.store import LoadRequest, Record
from auth.access import Miss
from auth.limiter import retry_after_header
from resolvers.context import Context
from resolvers.records import rate_limited

NOT_FOUND = "not found"
OUTSIDE = "outside the caller's regions"
RATE_LIMITED = "rate limited"


async def locate_household(context: Context, household_number: str, *, entry_point: str) -> Record | None:
    """The household if the caller may see it; None (noted as a miss) when it is absent or outside."""
    _admit(context, entry_point, household_number)
    await context.cache.prefetch([LoadRequest(department.HOUSEHOLDS, "household_number", [household_number])])
    found = context.records(department.HOUSEHOLDS, "household_number", household_number)
    household = found[0] if found else None
    return _visible(context, entry_point, household_number, household, household)


async def locate_person(context: Context, id_number: str, *, entry_point: str) -> Record | None:
    """The person if the caller may see them; None (noted as a miss) when absent or outside."""
    _admit(context, entry_point, id_number)
    # The person and, through it, its household: where the person belongs, in the same batch.
    through = (department.PERSONS, "id_number")
    await context.cache.prefetch(
        [
            LoadRequest(department.PERSONS, "id_number", [id_number]),
            LoadRequest(department.HOUSEHOLDS, "household_number", [id_number], through),
        ]
    )
    persons = context.records(department.PERSONS, "id_number", id_number)
    if not persons:
        return _visible(context, entry_point, id_number, None, None)
    households = context.records(department.HOUSEHOLDS, "household_number", persons[0]["household_number"])
    return _visible(context, entry_point, id_number, persons[0], households[0] if households else None)


def _admit(context: Context, entry_point: str, key: str) -> None:
    """Refuse the look-up before anything is read while its client is over its misses."""
    client_id = _client(context)
    if context.misses is None or client_id is None:
        return
    left = context.misses.wait(client_id)
    if left is not None:
        context.access.misses.append(Miss(entry_point, key, RATE_LIMITED))
        raise rate_limited(int(retry_after_header(left)))


def _visible(
    context: Context, entry_point: str, key: str, record: Record | None, household: Record | None
) -> Record | None:
    """`record` when its `household` lies inside the caller's regions; else a miss, counted against the client."""
    if record is not None and household is not None and context.access.covers(household["region_code"]):
        return record
    # A person whose household is missing belongs nowhere the caller may see: outside, for the trail.
    context.access.misses.append(Miss(entry_point, key, NOT_FOUND if record is None else OUTSIDE))
    client_id = _client(context)
    if context.misses is not None and client_id is not None:
        left = context.misses.missed(client_id)
        if left is not None:
            raise rate_limited(int(retry_after_header(left)))
    return None


def _client(context: Context) -> str | None:
    principal = context.access.principal
    return principal.client_id if principal is not None else None
