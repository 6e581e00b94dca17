"""What a response says it withheld: a special value withheld reads exactly like a rule's withholding."""

from __future__ import annotations

import datetime as dt

from auth.access import Access
from auth.disclosure import Selected, disclose, extensions_of
from auth.policy import compile_view, load_policy

TODAY = dt.date(2026, 11, 23)
ADULT = "350583198001010011"
CHILD = "350583201801010014"  # 8 years old
# Household numbers have no mask: `personal: mask` withholds them by rule; ids are masked, a minor's withheld.
AUDITOR_LIKE = "r:\n  p:\n    public: allow\n    personal: mask\n"
SELECTED = (
    Selected("household.householdNumber", "Household", "householdNumber"),
    Selected("household.members.idNumber", "Person", "idNumber"),
)


def _read_household(members: list[str]) -> Access:
    access = Access(view=compile_view(load_policy(AUDITOR_LIKE), frozenset({"r"}), "p"), regions=("35",), today=TODAY)
    household = {"household_number": "350583000002"}
    access.apply("Household", dict(household), household)
    for id_number in members:
        record = {"id_number": id_number}
        access.apply("Person", dict(record), record)
    return access


def test_a_special_value_withheld_is_reported_like_a_field_the_policy_withholds() -> None:
    # given a household read with a minor among its members, ids masked and household numbers withheld by rule
    access = _read_household([ADULT, CHILD])
    # when the response's withheld paths are worked out
    withheld = extensions_of(disclose(access, SELECTED))["withheld"]
    # then the minor's id is listed, and its entry differs from the rule's only in where it is
    by_field = {entry["field"]: entry for entry in withheld}
    assert set(by_field) == {"Household.householdNumber", "Person.idNumber"}
    special, by_rule = by_field["Person.idNumber"], by_field["Household.householdNumber"]
    assert set(special) == set(by_rule) == {"path", "field", "reason"}
    assert special["reason"] == by_rule["reason"] == "policy"


def test_without_a_minor_only_the_rules_withholding_is_listed() -> None:
    # given the same household with adults only, when the withheld paths are worked out
    withheld = extensions_of(disclose(_read_household([ADULT]), SELECTED))["withheld"]
    # then only the field the rule withholds is there
    assert [entry["field"] for entry in withheld] == ["Household.householdNumber"]
