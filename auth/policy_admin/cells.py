"""The choices of one cell of the permission matrix: the actions a field rule on `Type.field` may name.

A cell's new action is a field rule of its role and purpose (it overrides the field's label rule,
auth/policy.py); "by its label" takes the field rule away again. The choices are those the policy's
own check accepts for the field (`auth.policy.check_field_rule`), so the console offers no action that
`load_policy` would refuse; the edited text is made by `auth.policy_admin.edit.with_rule` and checked
in full (a `special` grant, say) when the draft is stored.
"""

from __future__ import annotations

from typing import Final

from auth.labels import GOVERNED
from auth.policy import MASK_FORMATS, PSEUDONYM, PolicyError, check_field_rule

BY_LABEL: Final = "label"
"""A cell's choice that removes its field rule: the field follows its label's rule again."""


def field_actions(target: str) -> list[str]:
    """The actions a field rule on `target` (`Type.field`) may name, in rank order: deny, masks, allow."""
    type_name, _, field_name = target.partition(".")
    if field_name not in GOVERNED.get(type_name, {}):
        raise PolicyError(f"{target!r} is not a governed Type.field")
    candidates = ["deny", *(f"mask:{name}" for name in sorted(MASK_FORMATS - {PSEUDONYM})), f"mask:{PSEUDONYM}"]
    found = []
    for text in [*candidates, "allow"]:
        try:
            check_field_rule(target, text)
        except PolicyError:
            continue
        found.append(text)
    return found
