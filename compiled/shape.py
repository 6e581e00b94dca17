"""An operation's selection resolved once against the schema: for every response key, its field and completion.

graphql-core works this out again for every object of every request: it collects the selection set's
fields through fragments, looks up each field's definition, resolver and type, and walks the type's
wrappers (non-null, list) before it completes a value. A registered operation's document never
changes, so here that work is done once, into a tree of `Step`s the runner follows
(compiled/runner.py).

Only the shapes whose execution is certain from the document alone are compiled: object types
(not interfaces or unions, whose runtime type is chosen per value), no directives (`@skip` and
`@include` depend on variables), no resolvers below the root that await (their concurrency is
graphql-core's), queries only. Anything else is `Unsupported`, with the reason, and runs through
the executor.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    VariableNode,
)
from graphql.language import Visitor, visit


class Unsupported(Exception):
    """The operation holds a shape the runner does not follow: `reason` is one of REASONS (the metrics'
    label), the message says more for the log, naming the shape, never a value."""

    def __init__(self, reason: str, message: str) -> None:
        assert reason in REASONS
        super().__init__(message)
        self.reason = reason


REASONS = frozenset({"unchosen", "mutation", "directives", "abstract", "introspection", "awaits", "roots"})


def _unmade(*_: Any) -> dict[str, Any]:
    raise AssertionError("the shape's encoders are written by compiled.encoder before it is run")


@dataclass(frozen=True)
class Leaf:
    """A scalar or enum: graphql-core's own output coercion, and the type's name for its error."""

    type: GraphQLLeafType


@dataclass(frozen=True)
class ListOf:
    item: Completion
    item_non_null: bool


@dataclass(frozen=True)
class ObjectOf:
    type: GraphQLObjectType
    steps: tuple[Step, ...]
    encode: Callable[..., dict[str, Any]] = field(default=_unmade, compare=False, repr=False)
    """The object's fields from one value (compiled/encoder.py writes it, once per plan)."""


Completion = Leaf | ListOf | ObjectOf


@dataclass(frozen=True)
class Step:
    """One response key of a selection set: what resolves it and how its value is completed."""

    key: str
    field_name: str
    definition: GraphQLField
    nodes: tuple[FieldNode, ...]  # every node merged under the key: the errors' locations
    resolve: Callable[..., Any] | None  # None: a plain attribute (strawberry's basic field)
    direct: Direct | None  # the resolver's own function, where strawberry's wrapper adds nothing to it
    attribute: str  # the attribute a plain field reads
    arguments: Mapping[str, Any] | None  # made once when no argument names a variable; None: per request
    non_null: bool
    completion: Completion
    parent: GraphQLObjectType  # the type the field is selected on: its errors name it
    typename: bool = False  # `__typename`: the parent type's name, nothing resolved

    @functools.cached_property
    def node_list(self) -> list[FieldNode]:
        """The nodes as graphql-core hands them to a resolver: made once, as a plan's every part is."""
        return list(self.nodes)


@dataclass(frozen=True)
class Direct:
    """A resolver without arguments, field extensions or permission classes: called as strawberry calls it,
    with the object as `self` (when it takes one) and strawberry's `Info` under the name it asks."""

    function: Callable[..., Any]
    field: Any  # the StrawberryField, which strawberry's Info names
    takes_self: bool
    info_name: str


@dataclass(frozen=True)
class Shape:
    operation: OperationDefinitionNode
    fragment_map: dict[str, FragmentDefinitionNode]  # as graphql-core hands them to a resolver
    root_type: GraphQLObjectType
    steps: tuple[Step, ...]


def shape_of(schema: GraphQLSchema, document: DocumentNode, operation_name: str | None) -> Shape:
    """The operation's steps, or Unsupported naming why not; the document has already validated."""
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [op for op in operations if operation_name is None or (op.name and op.name.value == operation_name)]
    if len(chosen) != 1:
        raise Unsupported("unchosen", "the operation cannot be chosen from the document")
    operation = chosen[0]
    if operation.operation != OperationType.QUERY:
        raise Unsupported("mutation", f"a {operation.operation.value}: only queries are compiled")
    if _has_directives(operation, document):
        raise Unsupported("directives", "directives (@skip, @include, ...): what they select depends on the request")
    fragments = {d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)}
    root = schema.query_type
    assert root is not None
    steps = _Builder(schema, fragments, direct=_plain_strawberry(schema)).steps(
        root, [operation.selection_set], root_level=True
    )
    resolved = [step for step in steps if not step.typename]
    if len(resolved) > 1 and any(step.resolve is not None and _awaits(step.resolve) for step in resolved):
        # graphql-core runs such roots concurrently: their errors and what they note come in its order
        raise Unsupported("roots", "several root fields, one of which awaits: graphql-core runs them together")
    return Shape(operation, fragments, root, steps)


class _Builder:
    def __init__(self, schema: GraphQLSchema, fragments: Mapping[str, FragmentDefinitionNode], *, direct: bool) -> None:
        self._schema = schema
        self._fragments = fragments
        self._direct = direct  # resolvers may be called directly (no Info class or handlers of the schema's own)

    def steps(
        self, parent: GraphQLObjectType, selections: list[SelectionSetNode], *, root_level: bool
    ) -> tuple[Step, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selections:
            self._collect(parent, selection_set, grouped)
        return tuple(self._step(parent, key, nodes, root_level=root_level) for key, nodes in grouped.items())

    def _collect(
        self, parent: GraphQLObjectType, selection_set: SelectionSetNode, into: dict[str, list[FieldNode]]
    ) -> None:
        """graphql-core's field collection, for an object type and a document without directives."""
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                into.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                if condition is None or condition.name.value == parent.name:
                    self._collect(parent, selection.selection_set, into)
                elif not self._never_applies(condition.name.value, parent):
                    raise Unsupported("abstract", "a fragment on an abstract type")
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self._fragments[selection.name.value]
                name = fragment.type_condition.name.value
                if name == parent.name:
                    self._collect(parent, fragment.selection_set, into)
                elif not self._never_applies(name, parent):
                    raise Unsupported("abstract", "a fragment on an abstract type")

    def _never_applies(self, type_name: str, parent: GraphQLObjectType) -> bool:
        # Validation lets a fragment on another object type through only where it could overlap; for an
        # object parent, another object type never applies.
        return isinstance(self._schema.get_type(type_name), GraphQLObjectType)

    def _step(self, parent: GraphQLObjectType, key: str, nodes: list[FieldNode], *, root_level: bool) -> Step:
        first = nodes[0]
        name = first.name.value
        if name == "__typename":
            return Step(key, name, _TYPENAME, tuple(nodes), None, None, "", {}, True, Leaf(_string()), parent,
                        typename=True)  # fmt: skip
        if name.startswith("__"):
            raise Unsupported("introspection", "introspection")
        definition = parent.fields[name]
        resolve = definition.resolve
        basic = resolve is None or getattr(resolve, "_is_default", False)
        if not basic and not root_level and _awaits(resolve):
            raise Unsupported("awaits", f"{parent.name}.{name} awaits below the root")
        non_null, completion = self._completion(definition.type, nodes)
        arguments = None if _names_variable(first) else _static_arguments(definition, first)
        attribute = _attribute_of(definition, name) if basic else ""
        direct = None if basic or not self._direct else _direct(definition)
        return Step(key, name, definition, tuple(nodes), None if basic else resolve, direct, attribute, arguments,
                    non_null, completion, parent)  # fmt: skip

    def _completion(self, output: GraphQLOutputType, nodes: list[FieldNode]) -> tuple[bool, Completion]:
        non_null = isinstance(output, GraphQLNonNull)
        inner = output.of_type if isinstance(output, GraphQLNonNull) else output
        if isinstance(inner, GraphQLList):
            item_non_null, item = self._completion(inner.of_type, nodes)
            return non_null, ListOf(item, item_non_null)
        if isinstance(inner, GraphQLLeafType):
            return non_null, Leaf(inner)
        if isinstance(inner, GraphQLObjectType):
            selections = [node.selection_set for node in nodes if node.selection_set is not None]
            return non_null, ObjectOf(inner, self.steps(inner, selections, root_level=False))
        raise Unsupported("abstract", "an interface or union: its object type is chosen per value")


def _has_directives(operation: OperationDefinitionNode, document: DocumentNode) -> bool:
    found = False

    class _Directives(Visitor):
        def enter_directive(self, *_: Any) -> None:
            nonlocal found
            found = True

    visit(operation, _Directives())
    for definition in document.definitions:
        if isinstance(definition, FragmentDefinitionNode):
            visit(definition, _Directives())
    return found


def _names_variable(node: FieldNode) -> bool:
    found = False

    class _Variables(Visitor):
        def enter_variable(self, variable: VariableNode, *_: Any) -> None:
            nonlocal found
            found = True

    for argument in node.arguments or ():
        visit(argument, _Variables())
    return found


def _static_arguments(definition: GraphQLField, node: FieldNode) -> Mapping[str, Any]:
    from graphql.execution.values import get_argument_values

    return get_argument_values(definition, node, None) if definition.args or node.arguments else {}


def _plain_strawberry(schema: GraphQLSchema) -> bool:
    """The schema calls resolvers with strawberry's own Info and handles no exception itself."""
    from strawberry.types.info import Info

    made = schema.extensions.get("strawberry-definition")
    if made is None:
        return False
    return made.config.info_class is Info and not getattr(made.schema_converter, "exception_handlers", ())


def _direct(definition: GraphQLField) -> Direct | None:
    found = definition.extensions.get("strawberry-definition")
    resolver = getattr(found, "base_resolver", None)
    if (
        found is None
        or resolver is None
        or found.extensions
        or getattr(found, "permission_classes", None)
        or resolver.arguments
    ):
        return None
    if resolver.info_parameter is None or resolver.is_async:
        return None
    # strawberry's `root` and `Parent` parameters, and a schema's own Info class or exception handlers,
    # are strawberry's wrapper's work: such a resolver goes through it
    if resolver.root_parameter is not None or resolver.parent_parameter is not None:
        return None
    return Direct(resolver.wrapped_func, found, resolver.self_parameter is not None, resolver.info_parameter.name)


def _awaits(resolve: Callable[..., Any]) -> bool:
    """Strawberry wraps an async resolver in a coroutine function of its own."""
    return inspect.iscoroutinefunction(resolve)


def _attribute_of(definition: GraphQLField, field_name: str) -> str:
    """The Python attribute behind a strawberry field without a resolver: the field's own `python_name`."""
    found = definition.extensions.get("strawberry-definition")
    return str(getattr(found, "python_name", field_name))


def _string() -> GraphQLLeafType:
    from graphql import GraphQLString

    return GraphQLString


_TYPENAME = GraphQLField(GraphQLNonNull(_string()))
