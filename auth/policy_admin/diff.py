"""A policy change, field by field: what each role gets of each field and entry point, per purpose, before and after.

Compared on the effective outcome, never on the rules as written: a label rule's change shows as the
fields whose outcome it changes (and not those a field rule keeps), a rule that changes nothing shows
nothing. Each outcome is the engine's own decision (`auth.policy.decide_field`), with the rule that
made it on either side.
"""

from __future__ import annotations

from dataclasses import dataclass

from auth.entry_points import ENTRY_POINTS
from auth.policy import Decision, Policy
from auth.policy_admin.why import field_decisions

_NOTHING = Policy(rules={}, text="")


@dataclass(frozen=True, kw_only=True)
class FieldChange:
    """One role's outcome of one field (or entry point) for one purpose, changed."""

    role: str
    purpose: str
    target: str  # `Type.field`, or an entry point `Query.<field>` / `Mutation.<field>`
    before: str  # allow, mask:<format> or deny
    after: str
    before_rule: str  # the rule that decided it (auth.policy.Decision.rule)
    after_rule: str
    special_values: bool = False  # only the field's special values change (a minor's id, say)

    @property
    def entry_point(self) -> bool:
        return self.target in ENTRY_POINTS


def diff(old: Policy | None, new: Policy) -> list[FieldChange]:
    """Every changed outcome from `old` (None: no live policy, everything denied) to `new`, by role,
    purpose, then entry points and fields in the schema's order."""
    old = old if old is not None else _NOTHING
    changes: list[FieldChange] = []
    for role in sorted({*old.rules, *new.rules}):
        for purpose in sorted({*old.rules.get(role, {}), *new.rules.get(role, {})}):
            before, after = field_decisions(old, [role], purpose), field_decisions(new, [role], purpose)
            for target, was in before.items():
                changes += _changed(role, purpose, target, was, after[target])
    return changes


def _changed(role: str, purpose: str, target: str, was: Decision, now: Decision) -> list[FieldChange]:
    found = []
    if was.action != now.action:
        found.append(
            FieldChange(
                role=role,
                purpose=purpose,
                target=target,
                before=str(was.action),
                after=str(now.action),
                before_rule=was.rule,
                after_rule=now.rule,
            )  # fmt: skip
        )
    was_special, now_special = was.special or was, now.special or now
    if was_special.action != now_special.action and (was.special is not None or now.special is not None):
        found.append(
            FieldChange(
                role=role,
                purpose=purpose,
                target=target,
                before=str(was_special.action),
                after=str(now_special.action),
                before_rule=was_special.rule,
                after_rule=now_special.rule,
                special_values=True,
            )  # fmt: skip
        )
    return found
