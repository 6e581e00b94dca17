"""One rule changed in a policy's text: how an edit of one cell of the permission matrix becomes a draft.

The result is checked as any `policy apply` is, and stored with `make_draft` like any other: an edit
never touches the live version. YAML comments are not kept (the text is written again from its rules);
a policy written by hand with comments is better edited as a file.
"""

from __future__ import annotations

from typing import Any

import yaml

from auth.policy import load_policy
from auth.policy_admin.drafts import PolicyAdminError


def with_rule(text: str, *, role: str, purpose: str, target: str, action: str | None, source: str = "edit") -> str:
    """`text` with the rule `role / purpose / target` set to `action` (None: removed), checked.

    Raises auth.policy.PolicyError when the result is not a policy the hub would apply (naming the place).
    """
    load_policy(text, source=source)  # the text it starts from is one the hub applied
    document: dict[str, Any] = yaml.safe_load(text) or {}
    by_purpose = document.setdefault(role, {}) or {}
    document[role] = by_purpose
    targets = by_purpose.setdefault(purpose, {}) or {}
    by_purpose[purpose] = targets
    if action is None:
        if target not in targets:
            raise PolicyAdminError(f"{role} / {purpose} has no rule on {target} to remove")
        del targets[target]
        if not targets:
            del by_purpose[purpose]
        if not by_purpose:
            del document[role]
    else:
        targets[target] = action
    edited = yaml.safe_dump(document, allow_unicode=True, sort_keys=False, default_flow_style=False)
    load_policy(edited, source=source)
    return edited
