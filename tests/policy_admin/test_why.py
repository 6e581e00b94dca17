""" "Why": every field gets its outcome and the one rule that decided it, of one of five kinds, never a blank."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from aidgraph.policy_why import explain_query
from auth.clients import Client
from auth.entry_points import ENTRY_POINTS
from auth.labels import GOVERNED
from auth.policy import Action, compile_view, load_policy
from auth.policy_admin import PolicyAdminError, explain
from tests.access import DEMO_POLICY, role_purposes

REVIEW = "assistance-review"
POLICY = load_policy(
    f"""\
clerk:
  {REVIEW}:
    public: allow
    personal: mask
    sensitive: allow
    special: mask
    Person.name: allow                   # a field rule beats its label's rule
    SettlementRecord.diagnosisCode: allow
supervisor:
  {REVIEW}:
    personal: allow                      # the most revealing role decides
    special: mask
trainee:
  {REVIEW}:
    personal: mask
    special: mask
"""
)
MEMBERS = (
    '{ household(householdNumber: "350583000006") { address members { name phone'
    " medical { settlements { diagnosisCode outOfPocket } } } } }"
)


def test_a_field_rule_beats_its_label_rule() -> None:
    decision = explain(POLICY, ["clerk"], REVIEW, "Person.name")
    assert (decision.action, decision.kind, decision.role) == (Action("allow"), "field rule", "clerk")
    assert decision.rule == "clerk / assistance-review / Person.name: allow"
    # and where no field rule is, the label rule decides, with the field's natural mask
    phone = explain(POLICY, ["clerk"], REVIEW, "Person.phone")
    assert (str(phone.action), phone.kind, phone.rule) == (
        "mask:phone",
        "label rule",
        "clerk / assistance-review / personal: mask",
    )


def test_across_roles_the_most_revealing_rule_decides_and_its_role_is_named() -> None:
    for roles in (["clerk", "supervisor"], ["supervisor", "trainee"], ["clerk", "supervisor", "trainee"]):
        decision = explain(POLICY, roles, REVIEW, "Person.phone")
        assert (str(decision.action), decision.kind, decision.role) == ("allow", "label rule", "supervisor")
        assert decision.rule == "supervisor / assistance-review / personal: allow"


def test_a_special_value_decides_every_diagnosis_alike() -> None:
    # given the diagnosis allowed by its own rule, and special values only masked
    decision = explain(POLICY, ["clerk"], REVIEW, "SettlementRecord.diagnosisCode")
    # then every diagnosis gets the special grant: its chapter, and the special rule is named
    assert (str(decision.action), decision.kind, decision.role) == ("mask:diagnosis-chapter", "special value", "clerk")
    assert decision.rule == (
        "clerk / assistance-review / special: mask, for every value alike"
        " (its own rule: clerk / assistance-review / SettlementRecord.diagnosisCode: allow)"
    )


def test_a_minors_value_is_decided_apart_from_the_fields_other_values() -> None:
    # given a name allowed by its field rule, then an adult's is shown and a minor's masked by `special`
    decision = explain(POLICY, ["clerk"], REVIEW, "Person.name")
    assert decision.special is not None
    assert (str(decision.special.action), decision.special.kind, decision.special.rule) == (
        "mask:name",
        "special value",
        "clerk / assistance-review / special: mask",
    )


def test_no_rule_is_the_default_deny_saying_what_no_rule_names() -> None:
    decision = explain(POLICY, ["clerk"], "comparison", "Person.name")
    assert (decision.action, decision.kind, decision.role) == (Action("deny"), "default deny", None)
    assert decision.rule == "no rule of clerk for comparison names Person.name or its label personal"


def test_an_entry_point_is_decided_as_an_entry_point() -> None:
    # a policy that names no entry point opens each for the purposes it serves
    household = explain(POLICY, ["clerk"], REVIEW, "Query.household")
    assert (str(household.action), household.kind) == ("allow", "entry point")
    assert (
        household.rule
        == "the policy names no entry point: Query.household is open for assistance-review, which it serves"
    )
    # but never for a purpose it does not serve, nor a ledger no rule names
    students = explain(POLICY, ["clerk"], REVIEW, "Query.eligibleStudents")
    assert (str(students.action), students.rule) == (
        "deny",
        "Query.eligibleStudents serves only the purposes student-aid, not 'assistance-review'",
    )
    runs = explain(POLICY, ["clerk"], "comparison", "Query.comparisonRuns")
    assert (str(runs.action), runs.kind) == ("deny", "entry point")
    assert runs.rule == "Query.comparisonRuns is opened only by a rule naming it, and none does for comparison"


def test_a_query_gets_a_decision_for_every_field_it_selects() -> None:
    # when a client's query is explained
    client = Client(
        client_id="housing-nanan", department="housing", roles=("clerk",), regions=("350583",),
        purposes=(REVIEW,), pseudonym_key=b"k", disabled=False, created_at=datetime.now(UTC),
    )  # fmt: skip
    decisions = explain_query(POLICY, client, REVIEW, MEMBERS)
    # then the entry point comes first, then each governed field once, each with a rule
    assert [target for target, _ in decisions] == [
        "Query.household",
        "Household.address",
        "Household.members",
        "Person.name",
        "Person.phone",
        "Person.medical",
        "SettlementRecord.diagnosisCode",
        "SettlementRecord.outOfPocket",
    ]
    assert all(decision.rule and decision.kind for _, decision in decisions)
    kinds = {target: decision.kind for target, decision in decisions}
    assert kinds["Person.name"] == "field rule" and kinds["SettlementRecord.diagnosisCode"] == "special value"
    # and a purpose the client may not declare, or a query the hub would not run, is an answer too
    with pytest.raises(PolicyAdminError, match="purpose 'comparison' is not allowed for client housing-nanan"):
        explain_query(POLICY, client, "comparison", MEMBERS)
    with pytest.raises(PolicyAdminError, match="Cannot query field 'shoeSize'"):
        explain_query(POLICY, ["clerk"], REVIEW, '{ person(idNumber: "1") { shoeSize } }')


def test_the_decisions_are_what_the_compiled_views_enforce() -> None:
    # for every role and purpose of the demo policy, every field's decision is the view's outcome
    outcome = {"allow": "revealed", "mask": "masked", "deny": "withheld"}
    for role, purpose in role_purposes():
        view = compile_view(DEMO_POLICY, frozenset([role]), purpose)
        for type_name, labels in GOVERNED.items():
            for field_name in labels:
                decision = explain(DEMO_POLICY, [role], purpose, f"{type_name}.{field_name}")
                assert outcome[decision.action.kind] == view.types[type_name].outcome[field_name]
        opened = {name for name in view.entry_points}

        assert opened == {
            name for name in ENTRY_POINTS if explain(DEMO_POLICY, [role], purpose, name).action.kind == "allow"
        }
