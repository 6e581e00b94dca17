"""One cell of the permission matrix, written into a policy document: `role / purpose / Type.field: action`.

The console's matrix edits a draft a cell at a time. A cell's new action is a field rule of that role
and purpose (it overrides the field's label rule, auth/policy.py); "by its label" takes the field rule
away again. The document is rewritten from its parsed form, so its comments and layout do not survive
an edit: the draft's diff is computed on outcomes (auth.policy_admin.diff), never on the text.

Whether the result is a policy at all (a full grant of a field that can hold special values needs a
`special` grant, say) is decided where it always is, when the draft is stored (`edit_draft` checks it).
"""

from __future__ import annotations

from typing import Any, Final

import yaml

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


def with_cell(text: str, role: str, purpose: str, target: str, action: str) -> str:
    """`text` with the rule `role / purpose / target` set to `action` (or removed, for BY_LABEL)."""
    if action != BY_LABEL and action not in field_actions(target):
        raise PolicyError(f"{role} / {purpose} / {target}: {action!r} is not an action of this field")
    document: Any = yaml.safe_load(text) or {}
    if not isinstance(document, dict):
        raise PolicyError("the policy is not a mapping of roles")
    by_purpose = document.setdefault(role, {}) or {}
    document[role] = by_purpose
    targets = by_purpose.setdefault(purpose, {}) or {}
    by_purpose[purpose] = targets
    if action == BY_LABEL:
        targets.pop(target, None)
    else:
        targets[target] = action
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, default_flow_style=False)
