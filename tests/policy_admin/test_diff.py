"""The diff of two policies is over what each role gets of each field, not over the rules as written."""

from __future__ import annotations

from auth.labels import GOVERNED
from auth.policy import load_policy
from auth.policy_admin import FieldChange, diff
from tests.access import DEMO_POLICY

BEFORE = load_policy(
    "housing:\n  assistance-review:\n    public: allow\n    personal: allow\n    special: mask\n"
    "    Person.phone: deny\n"
)
# The label rule changes: personal fields are masked now (withheld where they have no natural mask).
AFTER = load_policy(
    "housing:\n  assistance-review:\n    public: allow\n    personal: mask\n    special: mask\n    Person.phone: deny\n"
)


def test_a_label_rule_change_shows_as_the_fields_it_changes() -> None:
    # when personal: allow becomes personal: mask
    changes = diff(BEFORE, AFTER)
    # then every personal field changes, to its natural mask or to deny, each with the rule now deciding it
    person = {change.target: change for change in changes if change.target.startswith("Person.")}
    assert person["Person.name"] == FieldChange(
        role="housing", purpose="assistance-review", target="Person.name", before="allow", after="mask:name",
        before_rule="housing / assistance-review / personal: allow",
        after_rule="housing / assistance-review / personal: mask",
    )  # fmt: skip
    assert (person["Person.gender"].before, person["Person.gender"].after) == ("allow", "deny")
    assert person["Person.gender"].after_rule.endswith("(gender has no natural mask: withheld)")
    # and the field kept by its own rule does not show, nor do fields of other labels
    assert "Person.phone" not in person
    assert "Person.medical" not in person and "Person.source" not in person
    # and what changed is exactly the personal fields, across every governed type, for that one role
    personal = {f"{t}.{f}" for t, labels in GOVERNED.items() for f, label in labels.items() if label == "personal"}
    assert {change.target for change in changes if not change.special_values} == personal - {"Person.phone"}
    assert {(change.role, change.purpose) for change in changes} == {("housing", "assistance-review")}


def test_the_same_outcomes_written_differently_show_no_change() -> None:
    # given the label rule replaced by a field rule on every personal field, to the same actions
    fields = [f"{t}.{f}" for t, labels in GOVERNED.items() for f, label in labels.items() if label == "personal"]
    spelled_out = "".join(f"    {target}: allow\n" for target in fields if target != "Person.phone")
    same = load_policy(
        "housing:\n  assistance-review:\n    public: allow\n    special: mask\n    Person.phone: deny\n" + spelled_out
    )
    # then nothing changed, and a policy against itself neither
    assert diff(BEFORE, same) == []
    assert diff(DEMO_POLICY, DEMO_POLICY) == []


def test_an_entry_point_and_special_values_show_as_their_own_changes() -> None:
    # when the policy starts naming entry points, and grants special values in full
    after = load_policy(
        "housing:\n  assistance-review:\n    public: allow\n    personal: allow\n    special: allow\n"
        "    Person.phone: deny\n    Query.household: allow\n"
    )
    changes = {(change.target, change.special_values): change for change in diff(BEFORE, after)}
    # then the entry points it no longer opens are listed as entry points, with why
    person = changes[("Query.person", False)]
    assert (person.before, person.after, person.entry_point) == ("allow", "deny", True)
    assert person.after_rule == (
        "the policy names entry points, and none of its rules for assistance-review opens Query.person"
    )
    assert ("Query.household", False) not in changes  # open before (by default) and after (by its rule)
    # and a minor's id, masked before by `special: mask`, is shown now: a line of its special values only
    minors = changes[("Person.idNumber", True)]
    assert (minors.before, minors.after) == ("mask:id", "allow")
    assert minors.before_rule == "housing / assistance-review / special: mask"
    assert minors.after_rule == "housing / assistance-review / personal: allow"
    assert ("Person.idNumber", False) not in changes  # an adult's id: shown in full before and after


def test_against_no_live_version_everything_granted_is_a_change() -> None:
    # given no live version (everything denied), then the first version's grants are all changes from deny
    changes = diff(None, BEFORE)
    assert changes and all(change.before == "deny" for change in changes if not change.special_values)
    assert any(change.target == "Person.name" and change.after == "allow" for change in changes)
