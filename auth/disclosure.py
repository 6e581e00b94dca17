"""What a response disclosed: the fields revealed, masked and withheld, and the paths withheld.

Worked out after execution from the query's selection (walked once per document and kept) and
what the request's `Access` saw while building objects: which governed types were returned, and
which values were special. The answer is one entry per path pattern (`household.members.phone`),
never one per row.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    get_named_type,
    parse,
)
from graphql.error import GraphQLError

from auth.access import Access
from auth.labels import GOVERNED


@dataclass(frozen=True)
class Selected:
    path: str  # response keys from the root, dot-joined: aliases as asked, list levels implicit
    type_name: str
    field_name: str


@dataclass(frozen=True)
class Disclosure:
    revealed: list[str]
    masked: list[str]
    withheld: list[str]
    withheld_paths: list[dict[str, str]]

    @property
    def personal(self) -> bool:
        return bool(self.revealed or self.masked)


@dataclass(frozen=True)
class Selection:
    operation: str | None  # the operation's name, when it has one
    fields: tuple[Selected, ...]


class SelectionIndex:
    """The operation name and governed fields a document selects, per (query text, operation name); bounded."""

    def __init__(self, schema: GraphQLSchema, size: int = 512) -> None:
        self._schema = schema
        self._size = size
        self._cache: OrderedDict[tuple[str, str | None], Selection] = OrderedDict()

    def __call__(self, query: str, operation_name: str | None) -> Selection:
        key = (query, operation_name)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._walk(query, operation_name)
            if len(self._cache) > self._size:
                self._cache.popitem(last=False)
        return found

    def _walk(self, query: str, operation_name: str | None) -> Selection:
        try:
            document = parse(query)
        except GraphQLError:
            return Selection(operation_name, ())
        operation = _operation(document, operation_name)
        root = self._schema.query_type
        if operation is None or root is None:
            return Selection(operation_name, ())
        fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
        found: dict[str, Selected] = {}
        self._fields(root, operation.selection_set, "", fragments, found, set())
        return Selection(operation.name.value if operation.name else None, tuple(found.values()))

    def _fields(
        self,
        parent: GraphQLObjectType,
        selection_set: SelectionSetNode | None,
        prefix: str,
        fragments: dict[str, FragmentDefinitionNode],
        found: dict[str, Selected],
        visiting: set[str],
    ) -> None:
        if selection_set is None:
            return
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                definition = parent.fields.get(selection.name.value)
                if definition is None:
                    continue
                key = selection.alias.value if selection.alias else selection.name.value
                path = f"{prefix}.{key}" if prefix else key
                if parent.name in GOVERNED:
                    found.setdefault(path, Selected(path, parent.name, selection.name.value))
                child = get_named_type(definition.type)
                if isinstance(child, GraphQLObjectType):
                    self._fields(child, selection.selection_set, path, fragments, found, visiting)
            elif isinstance(selection, InlineFragmentNode):
                self._fields(parent, selection.selection_set, prefix, fragments, found, visiting)
            elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in visiting:
                fragment = fragments.get(selection.name.value)
                if fragment is not None:
                    inner = visiting | {selection.name.value}
                    self._fields(parent, fragment.selection_set, prefix, fragments, found, inner)


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((op for op in operations if op.name is not None and op.name.value == name), None)


def disclose(access: Access, selected: tuple[Selected, ...]) -> Disclosure:
    """Classify every selected field of the types this request returned.

    Public fields are structure: recorded only when they are withheld (a policy that denies `public`).
    """
    revealed: set[str] = set(access.memberships)
    masked: set[str] = set()
    withheld: set[str] = set()
    paths: list[dict[str, str]] = []
    buckets = {"revealed": revealed, "masked": masked, "withheld": withheld}
    for item in selected:
        if item.type_name not in access.seen:
            continue
        target = f"{item.type_name}.{item.field_name}"
        static = access.view.types[item.type_name].outcome[item.field_name]
        outcomes = {static} | access.exceptions.get(target, set())
        if GOVERNED[item.type_name][item.field_name] == "public":
            outcomes.discard("revealed")
        for outcome in outcomes:
            buckets[outcome].add(target)
        if "withheld" in outcomes:
            # One reason for every withholding: a reason that set special values apart would point at them.
            paths.append({"path": item.path, "field": target, "reason": "policy"})
    return Disclosure(sorted(revealed), sorted(masked), sorted(withheld), paths)


def extensions_of(disclosure: Disclosure) -> dict[str, Any]:
    return {"withheld": disclosure.withheld_paths} if disclosure.withheld_paths else {}
