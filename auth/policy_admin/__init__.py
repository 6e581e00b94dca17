"""Policy administration (DESIGN §3): drafts and four eyes, rollback, the field-by-field diff, "why", impact.

The services the command line (`aidgraph policy ...`) and the console call; neither holds a rule of its
own. Every answer is derived from the engine's own decisions (`auth.policy.decide_field`), never from a
second reading of the rules.

- `auth.policy_admin.drafts`: `make_draft`, `edit_draft`, `approve`, `withdraw`, `rollback`, `versions`;
- `auth.policy_admin.diff`: `diff` of two policies, per role, purpose and field;
- `auth.policy_admin.why`: `explain` one field, `explain_profile` every field of an analysed query
  (`aidgraph.policy_why.explain_query` analyses a query's text first), `field_decisions` every field
  for some roles and a purpose (a row of the permission matrix);
- `auth.policy_admin.edit`: `with_rule`, a policy's text with one rule set or removed (a matrix cell edited);
- `auth.policy_admin.impact`: `impact` of a draft on the requests of the last days, from the audit trail.
"""

from auth.policy_admin.diff import FieldChange, diff
from auth.policy_admin.drafts import (
    POLICY_APPROVED,
    POLICY_DRAFTED,
    POLICY_EDITED,
    POLICY_WITHDRAWN,
    PolicyAdminError,
    VersionRecord,
    approve,
    edit_draft,
    make_draft,
    rollback,
    versions,
    withdraw,
)
from auth.policy_admin.edit import with_rule
from auth.policy_admin.impact import ClientImpact, Impact, impact
from auth.policy_admin.why import explain, explain_profile, field_decisions

__all__ = [
    "POLICY_APPROVED",
    "POLICY_DRAFTED",
    "POLICY_EDITED",
    "POLICY_WITHDRAWN",
    "ClientImpact",
    "FieldChange",
    "Impact",
    "PolicyAdminError",
    "VersionRecord",
    "approve",
    "diff",
    "edit_draft",
    "explain",
    "explain_profile",
    "field_decisions",
    "impact",
    "make_draft",
    "rollback",
    "versions",
    "with_rule",
    "withdraw",
]
