"""Fetching ahead: from a query's selection, every record list it will read, in one batch per level.

Resolvers declare what they read (`@reads(spec, by)`); an entry point walks the selection of
its result, collects those declarations, and fetches them all at once: a household's picture
costs one batch for the household level and one for its members, whatever their number. The
resolvers themselves then run synchronously from the request's cache (DESIGN §7: the cost is in
resolving, so nothing per field awaits).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from strawberry.types.base import StrawberryList, StrawberryOptional
from strawberry.types.nodes import SelectedField, Selection
from strawberry.utils.str_converters import to_camel_case

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


def plan(cls: type, selections: Sequence[Selection], roots: Mapping[type, str]) -> Plan:
    """What a selection under an object of `cls` will read; `roots` maps person/household types to their key."""
    found: set[Read] = set()
    children: list[Child] = []
    _walk(cls, selections, roots, found, children)
    return Plan(frozenset(found), tuple(children))


def _walk(
    cls: type, selections: Sequence[Selection], roots: Mapping[type, str], found: set[Read], children: list[Child]
) -> None:
    index = _fields(cls)
    for selected in _flatten(selections):
        entry = index.get(selected.name)
        if entry is None:
            continue
        declared, child_type = entry
        if child_type is not None and child_type in roots:
            children.append(Child(declared, plan(child_type, selected.selections, roots), roots[child_type]))
            continue
        found.update(declared)
        if child_type is not None:
            _walk(child_type, selected.selections, roots, found, children)


def _flatten(selections: Iterable[Selection]) -> Iterable[SelectedField]:
    for selection in selections:
        if isinstance(selection, SelectedField):
            yield selection
        else:  # fragment spread or inline fragment
            yield from _flatten(selection.selections)


@functools.cache
def _fields(cls: type) -> dict[str, tuple[tuple[Read, ...], type | None]]:
    """GraphQL field name -> (what its resolver reads, the object type it leads to)."""
    index: dict[str, tuple[tuple[Read, ...], type | None]] = {}
    for field in cls.__strawberry_definition__.fields:  # type: ignore[attr-defined]
        resolver = field.base_resolver
        declared = getattr(resolver.wrapped_func, _READS, ()) if resolver is not None else ()
        target = field.type
        while isinstance(target, StrawberryList | StrawberryOptional):
            target = target.of_type
        child = target if hasattr(target, "__strawberry_definition__") else None
        index[field.graphql_name or to_camel_case(field.python_name)] = (declared, child)
    return index


_PLANS: dict[tuple[int, type, tuple[str, ...]], tuple[object, Plan]] = {}


def plan_for(info: Any, cls: type, roots: Mapping[type, str], path: tuple[str, ...] = ()) -> Plan:
    """The plan of the field being resolved (below `path`, e.g. edges.node), cached per parsed document.

    Parsed documents are cached (ParserCache), so the same query reuses the same AST node; the node is
    kept beside its plan, so an id can never be mistaken for another document's.
    """
    node = info._raw_info.field_nodes[0]
    key = (id(node), cls, path)
    hit = _PLANS.get(key)
    if hit is not None and hit[0] is node:
        return hit[1]
    selections: Sequence[Selection] = info.selected_fields[0].selections
    for name in path:
        selections = [
            child for selected in _flatten(selections) if selected.name == name for child in selected.selections
        ]
    result = plan(cls, selections, roots)
    if len(_PLANS) >= 1024:
        _PLANS.clear()
    _PLANS[key] = (node, result)
    return result


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
