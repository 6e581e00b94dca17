"""One analysis per (document, operation), cached: the limits' counts, the disclosure profile and the fetch plans.

The three used to be three walkers over the same document (the limits rule, the disclosure index, the
prefetch planner); one walk now yields all of them, over graphql-core's parse of the document and the
schema, reaching the Python classes only through strawberry's public schema look-ups. A compiled fast
path for a registered operation would start from the same analysis.

Each fragment is walked once per (fragment, paged) and its result reused wherever it is spread, so a
document spreading fragments into fragments costs time in proportion to what it distinctly selects,
not to the shape it describes (the limits refuse that shape).
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import strawberry
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    NullValueNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    get_named_type,
    get_nullable_type,
    is_list_type,
    parse,
)
from strawberry.extensions import SchemaExtension
from strawberry.types.base import StrawberryObjectDefinition

from auth.disclosure import DisclosureProfile, Selected
from auth.labels import GOVERNED
from resolvers.pagination import DEFAULT_PAGE, MAX_PAGE
from resolvers.prefetch import Child, Plan, Read, declared_reads

CACHE_SIZE = 512  # distinct documents kept analysed
_INTROSPECTION = frozenset({"__schema", "__type"})  # bounded by the schema; refused outside development
NO_PLAN = Plan(frozenset(), ())
COUNT_FIELD = "totalCount"
COUNT_COST = MAX_PAGE
"""A connection's count reads every row the connection could page through, however small the page
asked: at least the largest page, and validation cannot know how many more. Charged once per
connection, not once per page entry (the resolver counts once), so `first: 0` does not make it free."""


class QueryShape(NamedTuple):
    """What one operation asks for, with every fragment spread counted as its fragment's fields."""

    root_fields: int
    depth: int
    aliases: int
    cost: int


Cost = tuple[int, ...]
"""An estimated cost as the coefficients of the powers of the assumed list length (`Limits.list_factor`):
the analysis holds for every limit, and each schema's limits evaluate it."""


@dataclass(frozen=True)
class Analysis:
    operation_name: str | None  # the operation's own name, when it has one
    root_fields: int
    depth: int
    aliases: int
    cost: Cost
    profile: DisclosureProfile
    plans: Mapping[tuple[str, ...], Plan]
    """By the entry point's response key, then the field names below it (edges, node): what a prefetch
    from there reads. Aliases below the entry point are merged: its resolver builds those objects once."""
    unchosen: bool = False
    """The document parsed, but names no such operation, or holds several and no name was given."""
    mutation: bool = False
    """The operation is a mutation: it changes the store, in one transaction with its audit event."""

    def shape(self, list_factor: int) -> QueryShape:
        cost = sum(coefficient * list_factor**power for power, coefficient in enumerate(self.cost))
        return QueryShape(self.root_fields, self.depth, self.aliases, cost)

    def plan(self, entry_point: str, path: tuple[str, ...] = ()) -> Plan:
        return self.plans.get((entry_point, *path), NO_PLAN)


def analyse(schema: strawberry.Schema, document: str, operation_name: str | None) -> Analysis:
    """The analysis of `operation_name` in `document` (None: its only operation); a cache look-up when known.

    A document that does not parse, or has no such operation, selects nothing.
    """
    return _document(schema, document).operation(operation_name)


def analysed(schema: strawberry.Schema, document: str, operation_name: str | None) -> Analysis | None:
    """The analysis when this worker has made it already, else None: a look-up only, which the event loop
    may make without handing the request to an execution thread (a new document's parse would block it)."""
    found = _DOCUMENTS.get((schema, document))
    return found.known(operation_name) if found is not None else None


def disclosure_profile(schema: strawberry.Schema, document: str, operation_name: str | None) -> DisclosureProfile:
    return analyse(schema, document, operation_name).profile


class AnalysisInContext(SchemaExtension):
    """Gives an execution whose context came without an analysis (a dry run, a test) the cached one.

    Runs after validation, so the limits have been checked on the same analysis."""

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        if getattr(context.context, "analysis", False) is None:
            context.context.analysis = analyse(context.schema, context.query or "", context.operation_name)
        yield


def analyse_parsed(graphql_schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Analysis:
    """The same analysis, from a document graphql-core has parsed (the validation rule's view of it).

    Cached by the document's text, so the endpoint's analysis and the rule's are one.
    """
    schema: strawberry.Schema = graphql_schema.extensions["strawberry-definition"]  # strawberry's back-reference
    if document.loc is None:  # parsed without locations: no text to key it by
        return _Document(schema, document).operation(operation_name)
    return analyse(schema, document.loc.source.body, operation_name)


_DOCUMENTS: OrderedDict[tuple[strawberry.Schema, str], _Document] = OrderedDict()  # least recently used first
_DOCUMENTS_LOCK = threading.Lock()


def _document(schema: strawberry.Schema, text: str) -> _Document:
    """The document parsed once per schema and text, the CACHE_SIZE most recently used kept."""
    key = (schema, text)
    with _DOCUMENTS_LOCK:
        found = _DOCUMENTS.get(key)
        if found is not None:
            _DOCUMENTS.move_to_end(key)
            return found
    try:  # outside the lock: a parse takes milliseconds
        parsed = parse(text)
    except GraphQLError:
        parsed = None
    with _DOCUMENTS_LOCK:
        found = _DOCUMENTS.setdefault(key, _Document(schema, parsed))
        _DOCUMENTS.move_to_end(key)
        while len(_DOCUMENTS) > CACHE_SIZE:
            _DOCUMENTS.popitem(last=False)
    return found


class _Document:
    """One parsed document and its operations' analyses, each made on first use."""

    def __init__(self, schema: strawberry.Schema, document: DocumentNode | None) -> None:
        self._schema = schema
        self._document = document
        self._analysed: dict[str | None, Analysis] = {}

    def known(self, name: str | None) -> Analysis | None:
        """The analysis if it costs no walk: made before, or one that selects nothing."""
        node = _operation(self._document, name) if self._document is not None else None
        if node is None:
            return self.operation(name)
        return self._analysed.get(node.name.value if node.name else None)

    def operation(self, name: str | None) -> Analysis:
        node = _operation(self._document, name) if self._document is not None else None
        own_name = node.name.value if node is not None and node.name else None
        key = own_name if node is not None else name
        found = self._analysed.get(key)
        if found is None:
            if node is None or self._document is None:
                # not kept: a client may send any number of names the document does not hold
                unchosen = self._document is not None
                return Analysis(name, 0, 0, 0, (), DisclosureProfile(name, (), ()), {}, unchosen=unchosen)
            found = walk(self._schema, self._document, node)
            self._analysed[key] = found
        return found


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name is not None and op.name.value == name), None)


def walk(schema: strawberry.Schema, document: DocumentNode, operation: OperationDefinitionNode) -> Analysis:
    """The one walk of an operation (through its fragments) over the schema."""
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    graphql_schema: GraphQLSchema = schema._schema  # strawberry offers no accessor for its graphql-core schema
    walker = _Walker(schema, graphql_schema, fragments)
    part = walker.selections(operation.selection_set, graphql_schema.get_root_type(operation.operation), paged=False)
    plans: dict[tuple[str, ...], list[Plan]] = {}
    for position, found in part.plans.items():
        (entry_point, _), *below = position
        plans.setdefault((entry_point, *(name for _, name in below)), []).extend(found)
    name = operation.name.value if operation.name else None
    selected = tuple(
        Selected(".".join(path), type_name, field_name) for path, (type_name, field_name) in part.selected.items()
    )
    return Analysis(
        operation_name=name,
        root_fields=part.root_fields,
        depth=part.depth,
        aliases=part.aliases,
        cost=part.cost,
        profile=DisclosureProfile(name, tuple(dict.fromkeys(part.entry_points)), selected),
        plans={position: _merged(found) for position, found in plans.items()},
        mutation=operation.operation == OperationType.MUTATION,
    )


Position = tuple[tuple[str, str], ...]  # (response key, field name) from the selection set down


@dataclass
class _Part:
    """What a selection set asks for, relative to the object it is selected on."""

    root_fields: int = 0
    depth: int = 0
    aliases: int = 0
    cost: Cost = ()
    counts: int = 0  # the connection counts selected here, paid once by the connection (COUNT_COST each)
    selected: dict[tuple[str, ...], tuple[str, str]] = field(default_factory=dict)
    reads: set[Read] = field(default_factory=set)
    children: dict[Child, None] = field(default_factory=dict)  # ordered, each once
    plans: dict[Position, list[Plan]] = field(default_factory=dict)
    entry_points: list[str] = field(default_factory=list)

    def add(self, other: _Part) -> None:
        """Merge a fragment's part, or a field's: counts add up, depths take the deepest."""
        self.root_fields += other.root_fields
        self.depth = max(self.depth, other.depth)
        self.aliases += other.aliases
        self.cost = _add(self.cost, other.cost)
        self.counts += other.counts
        for path, found in other.selected.items():
            self.selected.setdefault(path, found)
        self.reads |= other.reads
        self.children.update(other.children)
        for position, plans in other.plans.items():
            self.plans.setdefault(position, []).extend(plans)
        self.entry_points.extend(other.entry_points)

    def plan(self) -> Plan:
        return Plan(frozenset(self.reads), tuple(self.children))


class _Walker:
    def __init__(
        self, schema: strawberry.Schema, graphql_schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode]
    ) -> None:
        self._schema = schema
        self._graphql_schema = graphql_schema
        self._fragments = fragments
        self._walked: dict[tuple[str, bool], _Part] = {}
        self._open: set[str] = set()

    def selections(self, selection_set: SelectionSetNode, parent: GraphQLNamedType | None, *, paged: bool) -> _Part:
        """`paged`: the parent took `first`, so a list here is that page, already counted."""
        part = _Part()
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in _INTROSPECTION:
                    part.add(self._field(selection, parent, paged=paged))
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                target = self._graphql_schema.get_type(condition.name.value) if condition else parent
                part.add(self.selections(selection.selection_set, target, paged=paged))
            elif isinstance(selection, FragmentSpreadNode):
                part.add(self._fragment(selection.name.value, paged=paged))
        return part

    def _fragment(self, name: str, *, paged: bool) -> _Part:
        key = (name, paged)
        fragment = self._fragments.get(name)
        if key in self._walked:
            return self._walked[key]
        if fragment is None or name in self._open:  # unknown and cyclic fragments: reported by graphql's own rules
            return _Part()
        self._open.add(name)
        condition = self._graphql_schema.get_type(fragment.type_condition.name.value)
        part = self.selections(fragment.selection_set, condition, paged=paged)
        self._open.discard(name)
        self._walked[key] = part
        return part

    def _field(self, node: FieldNode, parent: GraphQLNamedType | None, *, paged: bool) -> _Part:
        name = node.name.value
        key = node.alias.value if node.alias else name
        definition = None
        if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            definition = parent.fields.get(name)
        inner = get_named_type(definition.type) if definition is not None else None
        factor, inner_paged = _factor(node, definition, paged=paged)
        nested = self.selections(node.selection_set, inner, paged=inner_paged) if node.selection_set else _Part()
        subtree = _times(nested.cost, factor)
        if nested.counts:  # once for a paged connection, once per item for a connection in a list
            subtree = _add(subtree, (nested.counts,) if inner_paged else _times((nested.counts,), factor))
        counted = name == COUNT_FIELD and definition is not None
        part = _Part(
            root_fields=1,
            depth=1 + nested.depth,
            aliases=(1 if node.alias else 0) + nested.aliases,
            cost=() if counted else _add((1,), subtree),
            counts=COUNT_COST if counted else 0,
            entry_points=[name] if not name.startswith("__") else [],
        )
        if definition is None or parent is None:
            return part  # __typename, or a field graphql's own rules report as unknown
        if parent.name in GOVERNED:
            part.selected[(key,)] = (parent.name, name)
        if isinstance(inner, GraphQLObjectType):
            part.selected.update({(key, *path): found for path, found in nested.selected.items()})
        part.plans = {((key, name), *position): plans for position, plans in nested.plans.items()}
        declared = _declared(self._schema, parent.name).get(name)
        if declared is None:
            return part
        # Imported when used, not with this module: Person and Household take the parts registered by then.
        from schema.registry import ROOTS

        child_class = _class(self._schema, inner.name) if inner is not None else None
        if child_class is not None and child_class in ROOTS:
            below = nested.plan()
            part.children[Child(declared, below, ROOTS[child_class])] = None
            part.plans.setdefault(((key, name),), []).append(below)
            return part
        part.reads.update(declared)
        if child_class is not None:
            part.reads |= nested.reads
            part.children.update(nested.children)
        return part


def _factor(node: FieldNode, definition: Any, *, paged: bool) -> tuple[int | None, bool]:
    """What the field's subtree is multiplied by (None: the assumed list length), and whether it is paged."""
    if definition is None:
        return 1, False
    if "first" in definition.args:
        return _page_size(node), True
    if is_list_type(get_nullable_type(definition.type)) and not paged:
        return None, False
    return 1, False


def _page_size(node: FieldNode) -> int:
    """The page asked for; a variable may ask for the largest page, and the analysis, kept per document,
    cannot see variables."""
    first = next((argument.value for argument in node.arguments or () if argument.name.value == "first"), None)
    if first is None or isinstance(first, NullValueNode):
        return DEFAULT_PAGE
    if isinstance(first, IntValueNode):
        return max(0, min(int(first.value), MAX_PAGE))
    return MAX_PAGE


def _add(left: Cost, right: Cost) -> Cost:
    longer, shorter = (left, right) if len(left) >= len(right) else (right, left)
    return tuple(a + (shorter[i] if i < len(shorter) else 0) for i, a in enumerate(longer))


def _times(cost: Cost, factor: int | None) -> Cost:
    if factor is None:
        return (0, *cost) if cost else ()
    return tuple(factor * coefficient for coefficient in cost)


def _merged(plans: Iterable[Plan]) -> Plan:
    reads: set[Read] = set()
    children: dict[Child, None] = {}
    for found in plans:
        reads |= found.reads
        children.update(dict.fromkeys(found.children))
    return Plan(frozenset(reads), tuple(children))


@functools.lru_cache(maxsize=1024)
def _class(schema: strawberry.Schema, type_name: str) -> type | None:
    definition = schema.get_type_by_name(type_name)
    return definition.origin if isinstance(definition, StrawberryObjectDefinition) else None


@functools.lru_cache(maxsize=1024)
def _declared(schema: strawberry.Schema, type_name: str) -> dict[str, tuple[Read, ...]]:
    """GraphQL field name -> what its resolver reads, for the fields strawberry defines on the type."""
    definition = schema.get_type_by_name(type_name)
    if not isinstance(definition, StrawberryObjectDefinition):
        return {}
    return {
        schema.config.name_converter.get_graphql_name(found): (
            declared_reads(found.base_resolver.wrapped_func) if found.base_resolver is not None else ()
        )
        for found in schema.get_fields(definition)
    }
