"""Fetching ahead: from a query's selection, every record list it will read, in one batch per level.

Resolvers declare what they read (`@reads(spec, by)`); the document's analysis collects those
declarations below each entry point (schema/analysis.py), and the entry point fetches them all at
once: a household's picture costs one batch for the household level and one for its members,
whatever their number. The
resolvers themselves then run synchronously from the request's cache (DESIGN §7: the cost is in
resolving, so nothing per field awaits).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

from adapters.base import FileSpec
from adapters.sources import SourceUnavailable
from adapters.store import LoadRequest, Record
from resolvers.context import Context

F = TypeVar("F", bound=Callable[..., Any])
Read = tuple[FileSpec, str | None]
"""(spec, by): by None means "by the key of the person or household that holds the field"."""

_READS = "__aidgraph_reads__"


def reads(*needs: FileSpec | Read) -> Callable[[F], F]:
    """Declare the records a resolver reads, so that they can be fetched before it runs."""
    declared = tuple(need if isinstance(need, tuple) else (need, None) for need in needs)

    def mark(function: F) -> F:
        setattr(function, _READS, declared)
        return function

    return mark


@dataclass(frozen=True)
class Child:
    """A field leading to further persons or households (members, household)."""

    reads: tuple[Read, ...]
    plan: Plan
    default_key: str


@dataclass(frozen=True)
class Plan:
    reads: frozenset[Read]
    children: tuple[Child, ...]


def declared_reads(function: object) -> tuple[Read, ...]:
    """What a resolver declared with `@reads`, for the analysis that plans a document's fetches."""
    return getattr(function, _READS, ())


class FetchPlans(Protocol):
    """The fetch plans of the operation being executed (schema/analysis.py makes them, once per document)."""

    def plan(self, entry_point: str, path: tuple[str, ...] = ()) -> Plan: ...


def plan_for(info: Any, cls: type, roots: Mapping[type, str], path: tuple[str, ...] = ()) -> Plan:
    """The plan below the entry point being resolved (and below `path` in it, e.g. edges.node).

    A look-up in the request's analysis by the entry point's response key (`info.path`); the analysis
    already planned `cls` with `roots`, the types a prefetch starts from.
    """
    analysis: FetchPlans | None = info.context.analysis
    if analysis is None:  # nothing fetched ahead: each resolver reads on the spot (correct, only slower)
        return Plan(frozenset(), ())
    return analysis.plan(info.path.key, path)


async def prefetch(context: Context, fetch_plan: Plan, records: Sequence[Record], default_key: str) -> None:
    """Fetch everything `fetch_plan` reads for `records`, then recurse into persons or households below.

    What the persons or households below read is asked for in the same batch where it can be: by the
    same key, or through the table that leads to them (members' records by household number).
    """
    if not records:
        return
    wanted = [
        LoadRequest(spec, by or default_key, [record[by or default_key] for record in records])
        for spec, by in (*fetch_plan.reads, *(read for child in fetch_plan.children for read in child.reads))
    ]
    for child in fetch_plan.children:
        if len(child.reads) != 1:
            continue
        ((through, through_by),) = child.reads
        parent_keys = [record[through_by or default_key] for record in records]
        for spec, by in child.plan.reads:
            key = by or child.default_key
            via = None if key == (through_by or default_key) else (through, through_by or default_key)
            wanted.append(LoadRequest(spec, key, parent_keys, via))
    await context.cache.prefetch(wanted)
    for child in fetch_plan.children:
        try:
            below = [
                found
                for record in records
                for spec, by in child.reads
                for found in context.cache.get(spec, by or default_key, record[by or default_key])
            ]
        except SourceUnavailable:
            continue  # the field itself reports the failure when it is resolved
        await prefetch(context, child.plan, below, child.default_key)
