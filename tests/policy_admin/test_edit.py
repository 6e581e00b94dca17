"""A matrix cell edited: the policy's text with one rule set or removed, checked as any apply."""

from __future__ import annotations

import pytest

from auth.policy import PolicyError, load_policy
from auth.policy_admin import PolicyAdminError, diff, explain, with_rule

SMALL = "housing:\n  assistance-review:\n    public: allow\n    personal: mask\n    special: mask\n"


def test_a_rule_set_in_a_cell_changes_that_field_only() -> None:
    # when housing's phone is denied
    edited = with_rule(SMALL, role="housing", purpose="assistance-review", target="Person.phone", action="deny")
    # then the text holds the new rule, and the diff is that one field
    assert [(c.target, c.before, c.after) for c in diff(load_policy(SMALL), load_policy(edited))] == [
        ("Person.phone", "mask:phone", "deny")
    ]
    # and removing it again gives the same outcomes as before
    back = with_rule(edited, role="housing", purpose="assistance-review", target="Person.phone", action=None)
    assert diff(load_policy(SMALL), load_policy(back)) == []


def test_a_new_role_and_purpose_are_made_and_emptied_ones_removed() -> None:
    edited = with_rule(SMALL, role="poverty", purpose="comparison", target="public", action="allow")
    assert explain(load_policy(edited), ["poverty"], "comparison", "Household.members").kind == "label rule"
    back = with_rule(edited, role="poverty", purpose="comparison", target="public", action=None)
    assert set(load_policy(back).rules) == {"housing"}


def test_an_edit_the_hub_would_not_apply_is_refused_naming_the_place() -> None:
    with pytest.raises(PolicyError, match="housing / assistance-review / Person.shoeSize"):
        with_rule(SMALL, role="housing", purpose="assistance-review", target="Person.shoeSize", action="allow")
    shown = with_rule(SMALL, role="housing", purpose="assistance-review", target="personal", action="allow")
    with pytest.raises(PolicyError, match="shows Person.idNumber in full"):
        with_rule(shown, role="housing", purpose="assistance-review", target="special", action=None)
    with pytest.raises(PolicyAdminError, match="no rule on Person.phone to remove"):
        with_rule(SMALL, role="housing", purpose="assistance-review", target="Person.phone", action=None)
