"""Which operations the compiler follows, and what it makes of them (compiled/shape.py, compiled/plans.py).

That the compiled answers equal the executor's is proven in tests/compiled/; here: the shapes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from graphql import parse
from prometheus_client import REGISTRY

from compiled.plans import EXECUTOR, INVALID, CompiledPlans
from compiled.shape import ListOf, ObjectOf, Step, Unsupported, shape_of
from schema import create_schema

SCHEMA = create_schema()
GRAPHQL = SCHEMA._schema
PICTURE = (Path(__file__).parents[1] / "bench" / "household.graphql").read_text()


def _shape(text: str, name: str | None = None) -> tuple[Step, ...]:
    return shape_of(GRAPHQL, parse(text), name).steps


def _below(step: Step) -> tuple[Step, ...]:
    completion = step.completion
    while isinstance(completion, ListOf):
        completion = completion.item
    assert isinstance(completion, ObjectOf)
    return completion.steps


def test_the_household_picture_is_compiled_with_its_fields_in_the_order_asked() -> None:
    # given the benchmark's household picture
    # when it is compiled
    (household,) = _shape(PICTURE)
    # then its root is the look-up, awaited, and its fields come in the document's order
    assert household.key == "household" and household.resolve is not None
    keys = [step.key for step in _below(household)]
    assert keys[:5] == ["householdNumber", "regionCode", "countyCode", "address", "residenceKind"]
    # plain columns are read as attributes; the members resolver is called directly, without arguments
    address = next(step for step in _below(household) if step.key == "address")
    members = next(step for step in _below(household) if step.key == "members")
    assert address.resolve is None and address.attribute == "address"
    assert members.direct is not None and members.direct.takes_self


def test_fragments_and_aliases_merge_as_graphql_collects_them() -> None:
    # given a document selecting one field twice under one key (once through a fragment) and once aliased
    text = """
        query Q($n: String!) {
          household(householdNumber: $n) { address ...More home: address ... on Household { regionCode } }
        }
        fragment More on Household { address countyCode }
    """
    # when it is compiled
    (household,) = _shape(text)
    steps = _below(household)
    # then each response key is one step, in first-seen order, both nodes kept for the errors' locations
    assert [step.key for step in steps] == ["address", "countyCode", "home", "regionCode"]
    assert len(steps[0].nodes) == 2


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('mutation M { updateAlert(id: "1", status: "ACKNOWLEDGED", version: 1) { id } }', "mutation"),
        ('query Q($s: Boolean!) { household(householdNumber: "1") { address @skip(if: $s) } }', "directives"),
        ("query Q { __schema { queryType { name } } }", "introspection"),
    ],
)
def test_shapes_whose_execution_the_document_does_not_fix_are_not_compiled(text: str, reason: str) -> None:
    # given an operation whose execution depends on more than its document (or changes the store)
    # when it is compiled, then the compiler says which shape it is, naming no value
    with pytest.raises(Unsupported, match=reason):
        _shape(text)


def _executed(reason: str) -> float:
    return REGISTRY.get_sample_value("aidgraph_execution_paths_total", {"path": EXECUTOR, "reason": reason}) or 0.0


def test_an_operation_not_compiled_is_counted_on_the_executor_with_its_reason_each_time() -> None:
    # given the worker's plans, and an invalid registered text (a field the schema lacks)
    plans = CompiledPlans(SCHEMA)
    before = _executed(INVALID)
    # when it is asked for twice
    first = plans.plan("sha256:" + "0" * 64, "query Q { nothing }", None)
    second = plans.plan("sha256:" + "0" * 64, "query Q { nothing }", None)
    # then there is no plan, and both requests are counted as the executor's, for that reason
    assert first is None and second is None
    assert _executed(INVALID) == before + 2


def test_a_plan_is_made_once_per_operation_and_reused() -> None:
    # given the worker's plans
    plans = CompiledPlans(SCHEMA)
    # when the picture is asked for twice
    first = plans.plan("sha256:" + "1" * 64, PICTURE, None)
    second = plans.plan("sha256:" + "1" * 64, PICTURE, None)
    # then the second is the first: nothing is compiled again
    assert first is not None and second is first
