"""Writing is granted by the policy, per role and purpose, only by a rule naming the mutation."""

from __future__ import annotations

import pytest

from auth.policy import CompiledPolicy, PolicyError, load_policy
from tests.access import DEMO_POLICY


def _entry_points(roles: set[str], purpose: str) -> frozenset[str]:
    return CompiledPolicy(DEMO_POLICY, version=1).view(frozenset(roles), purpose).entry_points


def test_the_demo_policy_lets_civil_affairs_write_and_the_poverty_office_only_read_alerts() -> None:
    # then civil affairs may read and write both ledgers, each under its purpose
    assert {"Query.comparisonRuns", "Query.comparisonRun", "Mutation.updateComparisonItem"} <= _entry_points(
        {"civil-affairs"}, "comparison"
    )
    assert {"Query.alerts", "Mutation.updateAlert"} <= _entry_points({"civil-affairs"}, "case-management")
    # and the poverty office reads alerts, writes nothing, and does not read the comparison ledger
    assert "Query.alerts" in _entry_points({"poverty"}, "case-management")
    poverty = _entry_points({"poverty"}, "case-management") | _entry_points({"poverty"}, "comparison")
    assert not {name for name in poverty if name.startswith("Mutation.") or "comparison" in name}
    # and the ledgers' rules do not close the entry points a policy never names
    assert {"Query.household", "Query.person", "Query.households"} <= _entry_points({"poverty"}, "comparison")


def test_a_write_is_never_open_by_default() -> None:
    # given a policy that grants every label for case management, and names no entry point
    policy = load_policy(
        "clerk:\n  case-management:\n    public: allow\n    personal: allow\n    sensitive: allow\n    special: mask\n"
    )
    view = CompiledPolicy(policy, version=1).view(frozenset({"clerk"}), "case-management")
    # then the role reads households but neither reads the alerts nor writes
    assert "Query.household" in view.entry_points
    assert not {"Query.alerts", "Mutation.updateAlert"} & view.entry_points


@pytest.mark.parametrize(
    ("rule", "refused"),
    [
        ("Mutation.updateAlert: allow", "serves only the purposes case-management"),
        ("Mutation.updateComparisonItem: mask", "allowed or denied, not masked"),
        ("Mutation.deleteEverything: allow", "is not an entry point"),
    ],
)
def test_a_write_rule_is_checked_when_the_policy_is_loaded(rule: str, refused: str) -> None:
    # when a policy grants a write under a purpose it does not serve, masks one, or names none that exists
    with pytest.raises(PolicyError, match=refused):
        load_policy(f"clerk:\n  comparison:\n    public: allow\n    {rule}\n")
