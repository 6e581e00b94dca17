"""Entry points governed like fields: declared purposes, policy grants, membership as disclosure.

Unit tests of the rules first, then every entry point through the secured hub for every purpose,
and a sweep of every role x purpose: a role the policy says little or nothing about is answered
cleanly (withheld fields, or FORBIDDEN), never with an internal error.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Final

import pytest
from graphql import GraphQLNonNull, GraphQLObjectType
from starlette.testclient import TestClient

import schema
from aidgraph.app import create_app
from aidgraph.settings import Settings
from auth import entry_points
from auth.labels import GOVERNED
from auth.policy import PolicyError, compile_view, load_policy
from auth.policy_store import apply_policy
from tests.access import DEMO_POLICY_TEXT, post, world_store
from tests.conftest import BACKENDS
from tests.schema.documents import HOUSEHOLD_PICTURE
from tests.test_access import Hub
from tests.world import SMALL, SMALL_HEAD

PURPOSES: Final = sorted(entry_points.EVERY_READ)
ROLES: Final = ["civil-affairs", "education", "medical", "housing", "disability", "poverty", "student-aid", "auditor"]
TERM = "2026-2027-1"
# One document per entry point, each asking for little: what is tested is whether it is answered at all.
ENTRY_DOCUMENTS: Final = {
    "household": f'{{ household(householdNumber: "{SMALL}") {{ householdNumber countyCode }} }}',
    "person": f'{{ person(idNumber: "{SMALL_HEAD}") {{ idNumber }} }}',
    "households": '{ households(region: "3505", first: 1) { totalCount edges { cursor } } }',
    "eligibleStudents": f'{{ eligibleStudents(region: "3505", term: "{TERM}") {{ totalCount }} }}',
    "keyTargetDistribution": '{ keyTargetDistribution(region: "3505") { countyCode unstableHouseholds } }',
    "accessLog": f'{{ accessLog(idNumber: "{SMALL_HEAD}") {{ hasNextPage }} }}',
}
ROLE_POLICY = """
civil-affairs:
  assistance-review:
    public: allow
    personal: allow
    special: mask
    Query.household: allow
  comparison:
    public: allow
"""


# --- the rules ------------------------------------------------------------------------------------------


def test_every_root_field_declares_its_purposes_and_nothing_else_is_declared() -> None:
    query_type = schema.create_schema()._schema.query_type
    assert query_type is not None
    mutation_type = schema.create_schema()._schema.mutation_type
    assert mutation_type is not None
    declared = {f"Query.{name}" for name in query_type.fields} | {f"Mutation.{name}" for name in mutation_type.fields}
    assert declared == set(entry_points.ENTRY_POINTS)


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ("student-aid:\n  assistance-review:\n    Query.eligibleStudents: allow\n", "serves only the purposes"),
        ("civil-affairs:\n  audit:\n    Query.household: mask\n", "allowed or denied, not masked"),
        ("civil-affairs:\n  audit:\n    Query.everything: allow\n", "is not an entry point"),
    ],
)
def test_a_policy_cannot_open_an_entry_point_beyond_its_purposes(rule: str, complaint: str) -> None:
    with pytest.raises(PolicyError, match=complaint) as refused:
        load_policy(rule, source="draft.yaml")
    assert "draft.yaml" in str(refused.value)


def test_without_entry_point_rules_every_declared_purpose_is_open() -> None:
    view = compile_view(load_policy(DEMO_POLICY_TEXT), frozenset({"housing"}), "assistance-review")
    assert "Query.household" in view.entry_points
    assert "Query.eligibleStudents" not in view.entry_points  # declared for student-aid only
    assert "Query.accessLog" not in view.entry_points


def test_with_entry_point_rules_only_they_open_one_and_labels_never_do() -> None:
    policy = load_policy(ROLE_POLICY)
    review = compile_view(policy, frozenset({"civil-affairs"}), "assistance-review")
    assert review.entry_points == frozenset({"Query.household"})
    # `public: allow` alone grants fields, not entry points
    assert compile_view(policy, frozenset({"civil-affairs"}), "comparison").entry_points == frozenset()


def test_every_field_a_policy_can_withhold_is_nullable() -> None:
    graphql_schema = schema.create_schema()._schema
    required = []
    for type_name, labels in GOVERNED.items():
        graphql_type = graphql_schema.get_type(type_name)
        assert isinstance(graphql_type, GraphQLObjectType), type_name
        for field_name in labels:
            if isinstance(graphql_type.fields[field_name].type, GraphQLNonNull):
                required.append(f"{type_name}.{field_name}")
    assert required == []


def test_the_only_governed_fields_resolved_apart_from_their_object_check_the_policy_themselves() -> None:
    # `Access.apply` governs the values an object is built with; a field with a resolver of its own is not
    # among them, so it must ask `Access.withholds` itself. These do: a new one must too.
    strawberry_schema = schema.create_schema()
    resolved = {
        f"{type_name}.{field.name}"
        for type_name in GOVERNED
        for field in strawberry_schema.get_type_by_name(type_name).fields  # type: ignore[union-attr]
        if field.base_resolver is not None
    }
    assert resolved == {
        "Person.household",
        "Household.members",
        "Household.income_assessment",
        "ComparisonItem.household",
        "ComparisonItem.person",
        "Alert.household",
    }


# --- through the hub --------------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    with world_store(request, tmp_path_factory.mktemp("entry-points")) as (url, engine):
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


def _codes(body: dict) -> list[str]:
    return [error["extensions"]["code"] for error in body.get("errors", [])]


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("field", sorted(ENTRY_DOCUMENTS))
def test_an_entry_point_answers_only_its_declared_purposes(hub: Hub, field: str, purpose: str) -> None:
    # given a civil-affairs client allowed exactly this purpose
    bearer = hub.as_role("civil-affairs", purpose)
    # when it uses the entry point
    body = post(hub.http, ENTRY_DOCUMENTS[field], bearer)
    # then it is answered if and only if the entry point serves that purpose
    if purpose in entry_points.ENTRY_POINTS[f"Query.{field}"].purposes:
        assert "FORBIDDEN" not in _codes(body), body
        assert body["data"][field] is not None or field in ("household", "person")
    else:
        assert _codes(body) == ["FORBIDDEN"]
        assert body["data"] is None or body["data"][field] is None


@pytest.fixture(scope="module", params=BACKENDS)
def explicit_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Hub]:
    """A hub whose live policy names entry points (ROLE_POLICY), applied before the hub starts."""
    with world_store(request, tmp_path_factory.mktemp("entry-rules")) as (url, engine):
        with engine.begin() as connection:
            apply_policy(connection, ROLE_POLICY, applied_by="tests")
        with TestClient(create_app(Settings(database_url=url, token_rate_limit=0))) as http:
            yield Hub(http, engine)


def test_entry_point_rules_in_the_live_policy_decide(explicit_hub: Hub) -> None:
    # given a policy granting civil affairs the household entry point and no other
    bearer = explicit_hub.as_role("civil-affairs", "assistance-review")
    # then a household is answered
    household = post(explicit_hub.http, ENTRY_DOCUMENTS["household"], bearer)
    assert household["data"]["household"]["householdNumber"] == SMALL
    # and a person, though its purpose is declared and its fields granted, is refused
    person = post(explicit_hub.http, ENTRY_DOCUMENTS["person"], bearer)
    assert _codes(person) == ["FORBIDDEN"]
    assert "not granted" in person["errors"][0]["message"]


def test_a_count_of_eligible_students_is_recorded_as_a_disclosure(hub: Hub) -> None:
    # when the student-aid system asks only how many students qualify
    before = len(hub.events())
    body = post(hub.http, ENTRY_DOCUMENTS["eligibleStudents"], hub.as_role("student-aid", "student-aid"))
    assert body["data"]["eligibleStudents"]["totalCount"] == 2
    # then the trail records that the list was disclosed, though no governed field was selected
    events = hub.events()[before:]
    assert len(events) == 1
    assert "Query.eligibleStudents" in events[0]["revealed"]


@pytest.mark.parametrize("purpose", PURPOSES)
@pytest.mark.parametrize("role", ROLES)
def test_every_role_and_purpose_is_answered_cleanly(hub: Hub, role: str, purpose: str) -> None:
    # given a client of a role for a purpose, whether or not the demo policy speaks of the pair
    bearer = hub.as_role(role, purpose)
    for document in (HOUSEHOLD_PICTURE, *ENTRY_DOCUMENTS.values()):
        # when it asks
        response = hub.http.post(
            "/graphql",
            json={"query": document, "variables": {"householdNumber": SMALL}},
            headers={"Authorization": f"Bearer {bearer}"},
        )
        # then it gets an answer or a clean refusal: never an internal error
        assert response.status_code == 200, (role, purpose, response.text)
        assert set(_codes(response.json())) <= {"FORBIDDEN"}, (role, purpose, response.text)


def test_a_pair_the_policy_is_silent_about_sees_the_household_but_nothing_in_it(hub: Hub) -> None:
    # given housing asking for case management, which the demo policy does not mention for housing
    bearer = hub.as_role("housing", "case-management")
    # when it asks for a household with its members
    body = post(hub.http, f'{{ household(householdNumber: "{SMALL}") {{ countyCode members {{ name }} }} }}', bearer)
    # then every field is withheld, the members list too, and the answer says where
    assert body["data"]["household"] == {"countyCode": None, "members": None}
    paths = {entry["path"] for entry in body["extensions"]["withheld"]}
    assert paths == {"household.countyCode", "household.members"}
