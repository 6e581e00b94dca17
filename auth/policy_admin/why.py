""" "Why": what a policy gives some roles of a field for a purpose, and the one rule that decided it.

Never a blank answer: every governed field and every entry point gets a decision, of one of five
kinds (`auth.policy.DecisionKind`): a field rule, a label rule, a special value (the `special` grant
decided), the default deny, or an entry point's grant. The decisions are the engine's own
(`auth.policy.decide_field`, from which the compiled views are built), so an explanation cannot
differ from what a request gets.
"""

from __future__ import annotations

from collections.abc import Iterable

from auth import entry_points
from auth.disclosure import DisclosureProfile
from auth.entry_points import ENTRY_POINTS
from auth.labels import GOVERNED
from auth.policy import Decision, Policy, decide_entry_point, decide_field, decide_special, role_rules
from auth.policy_admin.drafts import PolicyAdminError


def explain(policy: Policy, roles: Iterable[str], purpose: str, field: str) -> Decision:
    """The decision on `field` (`Type.field`, or an entry point `Query.<field>` / `Mutation.<field>`)."""
    by_role = role_rules(policy, roles, purpose)
    if entry_points.is_entry_point(field):
        return decide_entry_point(policy, by_role, purpose, field)
    type_name, _, field_name = field.partition(".")
    if field_name not in GOVERNED.get(type_name, {}):
        raise PolicyAdminError(f"{field!r} is neither an entry point nor a governed Type.field")
    return decide_field(by_role, purpose, type_name, field_name, decide_special(by_role, purpose))


def explain_profile(
    policy: Policy, roles: Iterable[str], purpose: str, profile: DisclosureProfile, *, root: str = entry_points.ROOT
) -> list[tuple[str, Decision]]:
    """A decision for each entry point and each governed field a query selects (its disclosure profile,
    `schema.analysis`), each once, in the order asked: the entry points first. `root` is `Mutation`
    for a mutation."""
    roles = sorted(roles)
    asked = [f"{root}.{name}" for name in profile.entry_points]
    asked += dict.fromkeys(f"{item.type_name}.{item.field_name}" for item in profile.fields)
    return [(name, explain(policy, roles, purpose, name)) for name in asked]


def field_decisions(policy: Policy, roles: Iterable[str], purpose: str) -> dict[str, Decision]:
    """The decision on every entry point and every governed field, for these roles and purpose: a row of
    the permission matrix (role x purpose x field), entry points first, then fields in the schema's order."""
    by_role = role_rules(policy, roles, purpose)
    decisions = {name: decide_entry_point(policy, by_role, purpose, name) for name in ENTRY_POINTS}
    special = decide_special(by_role, purpose)
    for type_name, labels in GOVERNED.items():
        for field_name in labels:
            decisions[f"{type_name}.{field_name}"] = decide_field(by_role, purpose, type_name, field_name, special)
    return decisions
