"""Limits on what one GraphQL document may ask, checked once per document and cached (DESIGN §7).

The shape limits (depth, aliases, root fields, estimated cost) are one graphql-core validation
rule reading the document's analysis (schema/analysis.py), so strawberry's validation step runs it
and the validation cache keeps its verdict; the
size limits (tokens, characters) are graphql-core parser options, so an oversized document is
refused while it is being read. Introspection and "Did you mean ...?" suggestions are refused or
hidden outside development mode, using graphql-core's own rule and `hide_suggestions` option.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    GraphQLSyntaxError,
    NoSchemaIntrospectionCustomRule,
    OperationDefinitionNode,
    ValidationRule,
    specified_rules,
    validate,
)
from graphql.language import SKIP, VisitorAction
from graphql.validation import ASTValidationRule, ValidationContext
from strawberry.extensions import AddValidationRules, ParserCache, SchemaExtension
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

from schema.analysis import QueryShape as QueryShape
from schema.analysis import analyse_parsed

TOO_COMPLEX = "QUERY_TOO_COMPLEX"
CACHE_SIZE = 128  # distinct documents kept parsed and validated; strawberry's default


@dataclass(frozen=True, kw_only=True)
class Limits:
    """The most one document may ask. The defaults leave headroom over the household picture
    (bench/household.graphql; README "GraphQL limits" gives its measured values)."""

    depth: int = 12
    aliases: int = 30
    root_fields: int = 10
    tokens: int = 5_000
    characters: int = 100_000
    cost: int = 50_000
    list_factor: int = 10  # the assumed length of a list that takes no `first`, e.g. a household's members


DEFAULT_LIMITS = Limits()


_LABELS = {"rootFields": "root fields", "cost": "estimated cost"}


def too_complex(limit: str, *, found: int, maximum: int, found_text: str | None = None, **where: Any) -> GraphQLError:
    """`limit` as in the error's extensions (camelCase); the message says it in words."""
    return GraphQLError(
        f"Query too complex: {_LABELS.get(limit, limit)} {found_text or found}, over the maximum of {maximum}.",
        extensions={"code": TOO_COMPLEX, "limit": limit, "found": found, "maximum": maximum},
        **where,
    )


class _Measure:
    """Reads an operation's shape from the document's analysis (schema/analysis.py): one walk per document
    and operation, shared with the fetch plans and the disclosure profile, each fragment walked once, so a
    document spreading fragments into fragments costs linear time however large the shape it describes.
    Nesting is bounded before this runs: graphql-core's parser and validator refuse more than 200
    levels, counting levels through fragment spreads."""

    def __init__(self, schema: GraphQLSchema, document: DocumentNode, list_factor: int):
        self._schema = schema
        self._document = document
        self._list_factor = list_factor

    def operation(self, operation: OperationDefinitionNode) -> QueryShape:
        name = operation.name.value if operation.name else None
        return analyse_parsed(self._schema, self._document, name).shape(self._list_factor)


def measure(
    schema: GraphQLSchema, document: DocumentNode, *, list_factor: int = DEFAULT_LIMITS.list_factor
) -> dict[str, QueryShape]:
    """The shape of each operation of a document, by operation name ("" for an anonymous one)."""
    measurer = _Measure(schema, document, list_factor)
    return {
        d.name.value if d.name else "": measurer.operation(d)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
    }


@functools.cache
def limits_rule(limits: Limits) -> type[ASTValidationRule]:
    """One rule class per `Limits`, so the validation cache sees the same rules on every request."""

    class QueryLimitsRule(ValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self._measure = _Measure(context.schema, context.document, limits.list_factor)

        def enter_operation_definition(self, node: OperationDefinitionNode, *_args: Any) -> VisitorAction:
            shape = self._measure.operation(node)
            for limit, found, maximum in (
                ("depth", shape.depth, limits.depth),
                ("aliases", shape.aliases, limits.aliases),
                ("rootFields", shape.root_fields, limits.root_fields),
                ("cost", shape.cost, limits.cost),
            ):
                if found > maximum:
                    self.report_error(too_complex(limit, found=found, maximum=maximum, nodes=[node]))
            return SKIP

        def enter_fragment_definition(self, *_args: Any) -> VisitorAction:
            return SKIP  # measured through the operations that spread them

    return QueryLimitsRule


class LimitedParserCache(ParserCache):
    """strawberry's ParserCache, parsing with graphql-core's size limits. `max_lexical_tokens` and
    `max_source_length` rather than `max_tokens` (what strawberry's MaxTokensLimiter sets), which
    graphql-core 3.3 deprecates: it counts comments as tokens, and bounds neither whitespace nor one
    huge string; the source length bounds all three."""

    def __init__(self, *, limits: Limits, maxsize: int = CACHE_SIZE) -> None:
        super().__init__(maxsize)
        self.limits = limits

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        query = context.query or ""
        limits = self.limits
        if len(query) > limits.characters:  # checked here too, for a message with the length found
            raise too_complex("characters", found=len(query), maximum=limits.characters)
        try:
            context.graphql_document = self.cached_parse_document(
                query, **context.parse_options, max_lexical_tokens=limits.tokens, max_source_length=limits.characters
            )
        except GraphQLSyntaxError as error:
            if error.message != f"Syntax Error: Document contains more than {limits.tokens} tokens. Parsing aborted.":
                raise
            # the parser stops at the first token over the limit: the count found is a lower bound
            raise too_complex(
                "tokens",
                found=limits.tokens + 1,
                found_text=f"at least {limits.tokens + 1}",
                maximum=limits.tokens,
                source=error.source,
                positions=error.positions,
            ) from None
        yield


class _SameDocument:
    """A cache key that is the parsed document object. The parser cache hands back the same object
    for the same text; hashing the document itself (a frozen dataclass) would walk the whole AST
    on every request, ~0.1 ms for the household picture."""

    __slots__ = ("document",)

    def __init__(self, document: DocumentNode) -> None:
        self.document = document

    def __hash__(self) -> int:
        return id(self.document)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _SameDocument) and other.document is self.document


@functools.lru_cache(maxsize=CACHE_SIZE)
def _validate(
    schema: GraphQLSchema, document: _SameDocument, rules: tuple[type[ASTValidationRule], ...], hide_suggestions: bool
) -> list[GraphQLError]:
    # the two rules strawberry's own validate_document adds to every validation
    every_rule = (*rules, MaybeNullValidationRule, OneOfInputValidationRule)
    return validate(schema, document.document, every_rule, hide_suggestions=hide_suggestions)


class CachedValidation(SchemaExtension):
    """strawberry's ValidationCache, but passing graphql-core's `hide_suggestions` (strawberry's
    validation does not) and keyed by document identity. The rules are part of the key: those that
    AddValidationRules appends in `on_operation`, which runs before any `on_validate`."""

    def __init__(self, *, hide_suggestions: bool) -> None:
        self.hide_suggestions = hide_suggestions

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        assert context.graphql_document is not None
        context.pre_execution_errors = _validate(
            context.schema._schema,
            _SameDocument(context.graphql_document),
            context.validation_rules,
            self.hide_suggestions,
        )
        yield


class ExecutorWithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    """Hides suggestions in execution errors too (an invalid enum value in the variables)."""

    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})


def hub_rules(limits: Limits, *, development: bool) -> list[type[ASTValidationRule]]:
    """The hub's rules beside graphql's own: the limits, and no introspection outside development."""
    return [limits_rule(limits)] if development else [limits_rule(limits), NoSchemaIntrospectionCustomRule]


def document_errors(
    schema: GraphQLSchema, document: DocumentNode, *, limits: Limits, development: bool
) -> list[GraphQLError]:
    """What a request sending `document` would be refused for before execution: graphql's rules, the
    hub's and strawberry's, as the request's own validation runs them (a registered operation is
    checked with this when it is added and when a hub starts)."""
    rules = (*specified_rules, *hub_rules(limits, development=development))
    return _validate(schema, _SameDocument(document), rules, not development)


def schema_extensions(limits: Limits, *, development: bool) -> list[Callable[[], SchemaExtension]]:
    """Parse, limits, introspection and validation, as extension factories (a fresh instance per request)."""
    rules = hub_rules(limits, development=development)
    return [
        functools.partial(LimitedParserCache, limits=limits),
        functools.partial(AddValidationRules, rules),
        functools.partial(CachedValidation, hide_suggestions=not development),
    ]
