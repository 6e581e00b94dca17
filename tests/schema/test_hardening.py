"""Query limits, introspection and suggestions, through the schema's own pipeline (error masking: test_errors)."""

from __future__ import annotations

import dataclasses
import enum
import functools
import time
from collections.abc import Iterator

import pytest
import strawberry
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError, get_introspection_query, parse
from graphql.language import Lexer, Source, TokenKind
from strawberry.extensions import SchemaExtension

import schema
from resolvers.pagination import MAX_PAGE
from schema import hardening
from schema.analysis import COUNT_COST
from schema.hardening import DEFAULT_LIMITS, Limits, QueryShape, measure
from tests.schema.documents import HOUSEHOLD_PICTURE

# depth 4 through the Person.household / Household.members cycle
DEPTH_4 = '{ household(householdNumber: "1") { members { household { householdNumber } } } }'
# one root field, and a page of 3 households: 1 + 3 * (edges 1 + node (1 + householdNumber 1 + members 11)) = 43,
# the members list (no `first`) counted as 10 members
COST_43 = """
{ households(region: "35", first: 3) { edges { node { householdNumber members { idNumber } } } } }
"""
ALIASES_3 = '{ household(householdNumber: "1") { a: householdNumber b: regionCode c: address } }'
ROOT_FIELDS_3 = "{ a: __typename b: __typename c: __typename }"
TOKENS_5 = "{ a: __typename }"  # { a : __typename }

PICTURE_FIELDS = """
fragment Picture on Household { householdNumber members { idNumber name disability { certificate { grade } } } }
"""
WITH_FRAGMENT = '{ household(householdNumber: "1") { ...Picture } }' + PICTURE_FIELDS
INLINED = """
{ household(householdNumber: "1") { householdNumber members { idNumber name disability { certificate { grade } } } } }
"""
SPREAD_TWICE = '{ a: household(householdNumber: "1") { ...Picture } b: household(householdNumber: "2") { ...Picture } }'
CYCLE = """
{ household(householdNumber: "1") { ...A } }
fragment A on Household { members { household { ...B } } }
fragment B on Household { members { household { ...A } } }
"""

SCHEMA_QUERY = "{ __schema { queryType { name } } }"
TYPE_QUERY = '{ __type(name: "Person") { name } }'
MISSPELT = '{ person(idNumber: "1") { nmae } }'


class Executed(SchemaExtension):
    """Records that an operation reached execution, and answers it without running resolvers: the
    limits are decided before execution, so no store is needed to tell accepted from refused."""

    calls: list[str]

    def on_execute(self) -> Iterator[None]:
        self.calls.append(self.execution_context.query or "")
        self.execution_context.result = GraphQLExecutionResult(data={}, errors=None)
        yield


@functools.cache
def _schema(limits: Limits) -> tuple[strawberry.Schema, list[str]]:
    """One schema per limits, as the app has one: the caches are keyed by the schema."""
    calls: list[str] = []

    def spy() -> Executed:
        extension = Executed()
        extension.calls = calls
        return extension

    return schema.create_schema([spy], limits=limits), calls


def run(query: str, limits: Limits = DEFAULT_LIMITS) -> tuple[list[GraphQLError], bool]:
    """The errors, and whether the query reached execution."""
    hub, calls = _schema(limits)
    calls.clear()
    result = hub.execute_sync(query)
    return list(result.errors or []), bool(calls)


def too_complex(errors: list[GraphQLError]) -> list[dict[str, object]]:
    return [dict(e.extensions or {}) for e in errors if (e.extensions or {}).get("code") == "QUERY_TOO_COMPLEX"]


def token_count(query: str) -> int:
    lexer, count = Lexer(Source(query)), 0
    while lexer.advance().kind != TokenKind.EOF:
        count += 1
    return count


def test_the_household_picture_is_within_the_default_limits_with_margin() -> None:
    # given the benchmark's household picture and the default limits
    shape = measure(schema.create_schema()._schema, parse(HOUSEHOLD_PICTURE))["HouseholdPicture"]
    # when it is sent, then it is validated and executed
    errors, executed = run(HOUSEHOLD_PICTURE)
    assert (errors, executed) == ([], True)
    # and every measured value stays at most half its limit (README "GraphQL limits" quotes them)
    assert shape == QueryShape(root_fields=1, depth=5, aliases=0, cost=5906)
    measured = {"tokens": token_count(HOUSEHOLD_PICTURE), "characters": len(HOUSEHOLD_PICTURE), **shape._asdict()}
    assert measured["tokens"] == 240
    for name, value in measured.items():
        assert value * 2 <= getattr(DEFAULT_LIMITS, name), name


@pytest.mark.parametrize(
    ("query", "limit", "field", "value"),
    [
        (DEPTH_4, "depth", "depth", 4),
        (COST_43, "cost", "cost", 43),
        (ALIASES_3, "aliases", "aliases", 3),
        (ROOT_FIELDS_3, "rootFields", "root_fields", 3),
        (TOKENS_5, "tokens", "tokens", 5),
        (ROOT_FIELDS_3, "characters", "characters", len(ROOT_FIELDS_3)),
    ],
    ids=["depth", "cost", "aliases", "root fields", "tokens", "characters"],
)
def test_a_query_at_a_limit_passes_and_one_over_it_is_refused_unexecuted(
    query: str, limit: str, field: str, value: int
) -> None:
    # given a query whose measure is exactly `value`
    # when the limit is `value`, then it is executed
    assert run(query, dataclasses.replace(DEFAULT_LIMITS, **{field: value})) == ([], True)
    # when the limit is one less, then it is refused before execution, saying which limit, what and how much
    errors, executed = run(query, dataclasses.replace(DEFAULT_LIMITS, **{field: value - 1}))
    assert not executed
    assert too_complex(errors) == [
        {"code": "QUERY_TOO_COMPLEX", "limit": limit, "found": value, "maximum": value - 1},
    ]
    assert f"over the maximum of {value - 1}" in errors[0].message


def test_the_default_limits_refuse_just_above_them() -> None:
    # given queries one over the default aliases, root fields and tokens
    aliases = '{ household(householdNumber: "1") { ' + " ".join(f"a{i}: address" for i in range(31)) + " } }"
    root_fields = "{ " + " ".join(f"r{i}: __typename" for i in range(11)) + " }"
    tokens = "{ " + " ".join(["__typename"] * 4999) + " }"  # 5001 tokens
    # when they are sent, then each is refused by the limit it breaks
    assert [e["limit"] for e in too_complex(run(aliases)[0])] == ["aliases"]
    assert [e["limit"] for e in too_complex(run(root_fields)[0])] == ["rootFields"]
    errors, executed = run(tokens)
    assert [e["limit"] for e in too_complex(errors)] == ["tokens"] and not executed
    assert "at least 5001" in errors[0].message
    # and one alias or root field fewer is executed
    assert run(aliases.replace("a30: address", ""))[1]
    assert run(root_fields.replace("r10: __typename", ""))[1]


@pytest.mark.parametrize(
    ("households", "cost"),
    [
        ('households(region: "35")', 1 + 20 * 3),  # no `first`: the resolver's default page, 20
        ('households(region: "35", first: 5)', 1 + 5 * 3),
        ('households(region: "35", first: 500)', 1 + 100 * 3),  # capped at the largest page
        ('households(region: "35", first: $first)', 1 + 100 * 3),  # unknown when validating: the largest page
    ],
    ids=["no first", "first 5", "first 500", "first variable"],
)
def test_a_page_costs_its_size_and_its_edges_are_not_counted_again(households: str, cost: int) -> None:
    # given a page of households, one field each
    query = "query ($first: Int) { " + households + " { edges { node { householdNumber } } } }"
    # when it is measured, then its subtree (edges 1 + node 1 + householdNumber 1) counts once per page entry
    assert measure(schema.create_schema()._schema, parse(query))[""].cost == cost


def test_a_count_costs_the_largest_page_once_per_connection_whatever_page_is_asked() -> None:
    # given ten connections asking for no entries, only their counts, and a page of five with its count
    counts = " ".join(f'c{i}: households(region: "35", first: 0) {{ totalCount }}' for i in range(10))
    page = 'households(region: "35", first: 5) { totalCount edges { node { householdNumber } } }'
    # when they are measured
    shapes = [measure(schema.create_schema()._schema, parse("{ " + query + " }"))[""] for query in (counts, page)]
    # then each count costs the largest page (it reads every row it counts), added once, not per entry
    assert [shape.cost for shape in shapes] == [10 * (1 + COUNT_COST), 1 + 5 * 3 + COUNT_COST]
    assert COUNT_COST == MAX_PAGE


def test_a_fragment_spread_counts_as_its_fragment_fields() -> None:
    # given the same selection inlined and as a fragment
    graphql_schema = schema.create_schema()._schema
    # when both are measured, then the shapes are equal
    assert measure(graphql_schema, parse(WITH_FRAGMENT)) == measure(graphql_schema, parse(INLINED))
    # and a fragment spread twice counts twice
    once = measure(graphql_schema, parse(WITH_FRAGMENT))[""]
    twice = measure(graphql_schema, parse(SPREAD_TWICE + PICTURE_FIELDS))[""]
    assert (twice.cost, twice.depth, twice.root_fields) == (2 * once.cost, once.depth, 2)
    # and a depth limit broken only through the fragment refuses the query
    errors, executed = run(WITH_FRAGMENT, dataclasses.replace(DEFAULT_LIMITS, depth=once.depth - 1))
    assert too_complex(errors)[0]["found"] == once.depth and not executed


def test_fragments_nested_into_fragments_are_measured_once_each() -> None:
    # given 20 fragments, each spreading the next twice: 2**20 fields, in a few hundred tokens
    ladder = "".join(f"fragment F{i} on Household {{ ...F{i + 1} ...F{i + 1} }}\n" for i in range(20))
    query = '{ household(householdNumber: "1") { ...F0 } }\n' + ladder + "fragment F20 on Household { address }"
    # when it is sent
    started = time.perf_counter()
    errors, executed = run(query)
    # then it is refused for its cost, quickly
    assert time.perf_counter() - started < 1
    assert [e["found"] for e in too_complex(errors)] == [1 + 2**20] and not executed


def test_cyclic_fragments_are_refused_by_graphql_not_looped_over() -> None:
    # given fragments spreading each other in a cycle, when sent
    errors, executed = run(CYCLE)
    # then graphql's own rule refuses them
    assert any("Cannot spread fragment 'A' within itself" in e.message for e in errors) and not executed


@pytest.mark.parametrize("query", [SCHEMA_QUERY, TYPE_QUERY])
def test_introspection_is_refused_by_default(query: str) -> None:
    # given the production schema, when introspected
    errors, executed = run(query)
    # then the query is refused
    assert not executed
    assert "introspection has been disabled" in errors[0].message


def test_introspection_works_in_development_mode_within_the_default_limits() -> None:
    # given the development schema
    development = schema.create_schema(development=True)
    # when introspected, with GraphiQL's full introspection query too
    answers = [development.execute_sync(q) for q in (SCHEMA_QUERY, TYPE_QUERY, get_introspection_query())]
    # then every one is answered
    assert [a.errors for a in answers] == [None, None, None]
    assert answers[0].data == {"__schema": {"queryType": {"name": "Query"}}}
    assert answers[1].data == {"__type": {"name": "Person"}}


def test_typename_is_not_introspection() -> None:
    assert run("{ __typename }") == ([], True)


def test_validation_errors_suggest_no_field_names_outside_development() -> None:
    # given a misspelt field, when sent to the production and the development schema
    production = schema.create_schema().execute_sync(MISSPELT)
    development = schema.create_schema(development=True).execute_sync(MISSPELT)
    # then only development suggests the field
    assert [e.message for e in production.errors or []] == ["Cannot query field 'nmae' on type 'Person'."]
    assert [e.message for e in development.errors or []] == [
        "Cannot query field 'nmae' on type 'Person'. Did you mean 'name'?"
    ]


class Colour(enum.Enum):
    RED = "red"


@strawberry.type
class ColourQuery:
    @strawberry.field
    def colour(self, colour: Colour) -> str:
        return colour.value


def test_execution_errors_suggest_no_enum_values_with_the_production_executor() -> None:
    # given an enum argument (the hub has none yet) and a misspelt value in the variables
    query, variables = "query ($c: Colour!) { colour(colour: $c) }", {"c": "RDE"}
    plain = strawberry.Schema(query=ColourQuery)
    hidden = strawberry.Schema(query=ColourQuery, execution_context_class=hardening.ExecutorWithoutSuggestions)
    # when executed with strawberry's executor and with the production one
    suggested = plain.execute_sync(query, variables).errors or []
    not_suggested = hidden.execute_sync(query, variables).errors or []
    # then only the production one hides the suggestion
    assert "Did you mean" in suggested[0].message
    assert not_suggested and "Did you mean" not in not_suggested[0].message
    assert hidden.execute_sync(query, {"c": "RED"}).data == {"colour": "red"}


def test_a_repeated_document_is_validated_once(monkeypatch: pytest.MonkeyPatch) -> None:
    # given limits no other test uses (so the document is new to the validation cache), counting measurements
    measured: list[str] = []
    original = hardening._Measure.operation

    def counting(self: hardening._Measure, operation: object) -> QueryShape:
        measured.append("once")
        return original(self, operation)  # type: ignore[arg-type]

    monkeypatch.setattr(hardening._Measure, "operation", counting)
    limits = dataclasses.replace(DEFAULT_LIMITS, cost=49_999)
    # when the same document is executed three times
    results = [run(HOUSEHOLD_PICTURE, limits) for _ in range(3)]
    # then all three are executed and the limits were measured once
    assert results == [([], True)] * 3
    assert measured == ["once"]
