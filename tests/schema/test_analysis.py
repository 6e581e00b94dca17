"""One analysis per (document, operation): one walk for a new document, none for a repeat, the planner's plans."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from starlette.testclient import TestClient

import schema
from adapters import civil_affairs, disability, registry
from aidgraph.app import create_app
from aidgraph.settings import Settings
from resolvers.prefetch import Child, Plan
from schema import analysis

NAMED = 'query OneWalk { household(householdNumber: "350583000001") { householdNumber members { name } } }'
# aliases and a fragment spread at once: the planner merged them under the entry point's alias
ALIASED_AND_SPREAD = """
{ picture: household(householdNumber: "1") { a: members { idNumber } ...Departments } }
fragment Departments on Household {
  members { disability { certificate { grade } } } civilAffairs { dibao { startDate } }
}
"""
PAGE_OF_HOUSEHOLDS = """
{ households(region: "35", first: 2) { e: edges { node { ... on Household { members { name } } } } } }
"""


@pytest.fixture
def walks(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str | None]]:
    """The operations walked, by name, while the test runs."""
    walked: list[str | None] = []
    original = analysis.walk

    def counting(*args: object) -> analysis.Analysis:
        found = original(*args)  # type: ignore[arg-type]
        walked.append(found.operation_name)
        return found

    monkeypatch.setattr(analysis, "walk", counting)
    yield walked


def test_one_request_walks_a_new_document_once_and_a_repeat_not_at_all(store_url: str, walks: list) -> None:
    # given a hub (its own schema, so the document is new to it)
    with TestClient(create_app(Settings(database_url=store_url), open_access=True)) as client:
        # when a named operation is sent without naming it, as clients do, then twice more
        statuses = [client.post("/graphql", json={"query": NAMED}).status_code for _ in range(3)]
    # then all are answered, and the endpoint, the limits and the plans shared one walk of the first request
    assert statuses == [200, 200, 200]
    assert walks == ["OneWalk"]


def test_a_plan_for_aliased_and_spread_selections_is_the_planners() -> None:
    # given a household asked under an alias, its members twice (aliased, and in a fragment)
    found = analysis.analyse(schema.create_schema(), ALIASED_AND_SPREAD, None)
    # when the entry point asks for its plan, then it is what the planner made: the fragment's reads at the
    # household's level, and one child per members selection, each with what is read below it
    members = ((registry.PERSONS, "household_number"),)
    assert found.plan("picture") == Plan(
        frozenset({(civil_affairs.DIBAO, "household_number")}),
        (
            Child(members, Plan(frozenset(), ()), "id_number"),
            Child(members, Plan(frozenset({(disability.CERTIFICATE, "id_number")}), ()), "id_number"),
        ),
    )
    # and nothing is planned under the field name the alias hides
    assert found.plan("household") == analysis.NO_PLAN


def test_a_plan_below_an_entry_point_is_found_by_field_names_through_aliases_and_inline_fragments() -> None:
    # given a page of households whose edges are aliased and whose node is an inline fragment
    found = analysis.analyse(schema.create_schema(), PAGE_OF_HOUSEHOLDS, None)
    # when the entry point asks for the plan at edges.node, then its members are planned there
    members = ((registry.PERSONS, "household_number"),)
    assert found.plan("households", ("edges", "node")) == Plan(
        frozenset(), (Child(members, Plan(frozenset(), ()), "id_number"),)
    )


def test_the_disclosure_profile_names_the_operation_its_entry_points_and_the_paths_asked() -> None:
    # given the aliased document, when analysed
    profile = analysis.analyse(schema.create_schema(), ALIASED_AND_SPREAD, None).profile
    # then it lists the governed fields by response path, and the root field once
    assert (profile.operation, profile.entry_points) == (None, ("household",))
    assert {(item.path, f"{item.type_name}.{item.field_name}") for item in profile.fields} >= {
        ("picture.a.idNumber", "Person.idNumber"),
        ("picture.members.disability", "Person.disability"),
        ("picture.civilAffairs", "Household.civilAffairs"),
    }


def test_a_known_documents_analysis_is_looked_up_without_walking_it_again() -> None:
    # given a schema, and a document this worker has not analysed yet
    hub = schema.create_schema()
    text = 'query Known { household(householdNumber: "350583000001") { address } }'
    # when the event loop asks first, then an execution thread analyses it, then the loop asks again
    before = analysis.analysed(hub, text, "Known")
    made = analysis.analyse(hub, text, "Known")
    # then the loop's look-up found nothing at first (the request goes to a thread), then the very analysis made
    assert before is None
    assert analysis.analysed(hub, text, "Known") is made and analysis.analysed(hub, text, None) is made


def test_a_name_the_document_does_not_hold_is_answered_without_being_kept() -> None:
    # given a document analysed once
    hub = schema.create_schema()
    text = 'query Held { household(householdNumber: "350583000001") { address } }'
    analysis.analyse(hub, text, "Held")
    # when names it does not hold are asked, then each selects nothing, and none is kept beside the real one
    for name in ("Other1", "Other2"):
        assert analysis.analysed(hub, text, name) is not None and analysis.analysed(hub, text, name).unchosen
    assert list(analysis._document(hub, text)._analysed) == ["Held"]
