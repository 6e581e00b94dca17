"""Following a compiled shape: the same resolvers graphql-core would call, without its per-field machinery.

Every resolver runs as under graphql-core, with the same arguments and a `GraphQLResolveInfo` of the
same path, so the look-ups, fetches, rules and the policy applied where objects are made
(`Access.apply`) are the ones the executor runs: nothing of the policy is written here. What is left
out is what graphql-core does again for each field of each object: collecting the selection, finding
the field's definition and resolver, walking its type, and building a resolve info for fields that
are plain attributes.

Errors follow the GraphQL spec as graphql-core implements it: a field's error is located at its path
and nulls the nearest nullable position above it; sibling fields after an error that propagates are
not resolved, as they are not under graphql-core's synchronous execution.
"""

from __future__ import annotations

import inspect as inspection
from collections.abc import Iterable
from typing import Any

from graphql import GraphQLError, GraphQLObjectType, GraphQLResolveInfo, GraphQLSchema, Undefined, located_error
from graphql.execution.values import VariableValues, get_argument_values
from graphql.pyutils import Path, inspect
from strawberry.types.info import Info

from compiled.shape import Completion, Leaf, ListOf, ObjectOf, Shape, Step


class Run:
    """One request's following of a shape: its context, variables and the errors it collected."""

    def __init__(self, schema: GraphQLSchema, shape: Shape, context: Any, variables: VariableValues) -> None:
        self._schema = schema
        self._shape = shape
        self._context = context
        self._variables = variables
        self.errors: list[GraphQLError] = []

    async def data(self) -> dict[str, Any] | None:
        """The root's fields, each awaited in turn (a root resolver may await; below it, none does)."""
        shape = self._shape
        data: dict[str, Any] = {}
        for step in shape.steps:
            if step.typename:
                data[step.key] = shape.root_type.name
                continue
            path = Path(None, step.key, shape.root_type.name)
            try:
                value = self._resolve(step, None, shape.root_type, path)
                if inspection.isawaitable(value):
                    value = await value
                data[step.key] = self._complete(step, value, path)
            except Exception as error:
                self.errors.append(located_error(error, list(step.nodes), path.as_list()))
                if step.non_null:
                    return None
                data[step.key] = None
        return data

    def field(self, step: Step, source: Any, path: Path) -> Any:
        """One field of an object at `path` that is not a plain scalar (compiled/encoder.py inlines those)."""
        parent = step.parent
        if step.typename:
            return parent.name
        field_path = Path(path, step.key, parent.name)
        try:
            return self._complete(step, self._resolve(step, source, parent, field_path), field_path)
        except Exception as error:
            return self._failed(step, error, field_path)

    def leaf_failed(self, step: Step, error: Exception, path: Path) -> None:
        return self._failed(step, error, Path(path, step.key, step.parent.name))

    def null(self, step: Step, path: Path) -> None:
        raise TypeError(f"Cannot return null for non-nullable field {step.parent.name}.{step.field_name}.")

    def invalid(self, step: Step, value: Any, path: Path) -> None:
        assert isinstance(step.completion, Leaf)
        self._leaf(step.completion, value)

    def _failed(self, step: Step, error: Exception, field_path: Path) -> None:
        # Located once, where it happened; a non-null field carries it up to the nearest nullable one.
        located = located_error(error, list(step.nodes), field_path.as_list())
        if step.non_null:
            raise located from None
        self.errors.append(located)
        return None

    def _resolve(self, step: Step, source: Any, parent: GraphQLObjectType, path: Path) -> Any:
        if step.resolve is None:
            return getattr(source, step.attribute)
        direct = step.direct
        if direct is not None:
            info = Info(_raw_info=self._info(step, parent, path), _field=direct.field)
            if direct.takes_self:
                return direct.function(source, **{direct.info_name: info})
            return direct.function(**{direct.info_name: info})
        arguments = step.arguments
        if arguments is None:
            arguments = get_argument_values(step.definition, step.nodes[0], self._variables)
        return step.resolve(source, self._info(step, parent, path), **arguments)

    def _info(self, step: Step, parent: GraphQLObjectType, path: Path) -> GraphQLResolveInfo:
        shape = self._shape
        return GraphQLResolveInfo(
            step.field_name,
            step.node_list,
            step.definition.type,
            parent,
            path,
            self._schema,
            shape.fragment_map,
            None,
            shape.operation,
            self._variables,
            self._context,
            inspection.isawaitable,  # type: ignore[arg-type]
            None,
            None,  # type: ignore[arg-type]
        )

    def _complete(self, step: Step, value: Any, path: Path) -> Any:
        completed = self._value(step, step.completion, value, path)
        if completed is None and step.non_null:
            raise TypeError(f"Cannot return null for non-nullable field {step.parent.name}.{step.field_name}.")
        return completed

    def _value(self, step: Step, completion: Completion, value: Any, path: Path) -> Any:
        if isinstance(value, Exception):
            raise value
        if value is None or value is Undefined:
            return None
        if isinstance(completion, ObjectOf):
            return completion.encode(self, value, path)
        if isinstance(completion, Leaf):
            return self._leaf(completion, value)
        return self._list(step, completion, value, path)

    @staticmethod
    def _leaf(completion: Leaf, value: Any) -> Any:
        coerced = completion.type.coerce_output_value(value)
        if coerced is Undefined or coerced is None:
            raise TypeError(
                f"Expected `{inspect(completion.type)}.coerce_output_value({inspect(value)})` to return"
                f" non-nullable value, returned: {inspect(coerced)}"
            )
        return coerced

    def _list(self, step: Step, completion: ListOf, values: Any, path: Path) -> list[Any]:
        if isinstance(values, str) or not isinstance(values, Iterable):
            raise GraphQLError(
                f"Expected Iterable, but did not find one for field '{step.parent.name}.{step.field_name}'."
            )
        items: list[Any] = []
        for index, value in enumerate(values):
            item_path = path.add_key(index, None)
            try:
                item = self._value(step, completion.item, value, item_path)
                if item is None and completion.item_non_null:
                    raise TypeError(f"Cannot return null for non-nullable field {step.parent.name}.{step.field_name}.")
            except Exception as error:
                located = located_error(error, list(step.nodes), item_path.as_list())
                if completion.item_non_null:
                    raise located from None
                self.errors.append(located)
                item = None
            items.append(item)
        return items
