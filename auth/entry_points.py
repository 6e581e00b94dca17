"""The schema's entry points and the purposes each serves: governed like fields (DESIGN §3).

Being on a list can itself be a disclosure: a student on `eligibleStudents` is known to live on dibao,
with a disability or in a registered-poor household. So every root field declares the purposes it
serves, and a request may use it only when

- its purpose is one the entry point declares (nothing, not even a policy rule, opens it to another), and
- the policy grants it to one of the caller's roles for that purpose: by a rule on `Query.<field>` if the
  policy has any such rule, else for every declared purpose (policies written before entry points
  were governed keep working). Label rules (`public: allow`, ...) never grant an entry point.

`MEMBERSHIP` names the entry points whose answer reveals status by membership: their lists and counts are
recorded as disclosed in the audit event even when no governed field is selected.

Some entry points are opened only by a rule that names them (`explicit`), whatever the policy's other
rules: the casework ledgers (being on one says a household was found missing aid, or sliding back
into poverty) and every mutation. Writing is an entry point too (`Mutation.<field>`): a role may change
an item only where the policy says `Mutation.updateComparisonItem: allow` for the purpose, so a
purpose held for reading never lets a client write.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

ROOT: Final = "Query"
MUTATION: Final = "Mutation"
EVERY_READ: Final = frozenset({"assistance-review", "student-aid", "comparison", "case-management", "audit"})


@dataclass(frozen=True)
class EntryPoint:
    name: str  # `Query.<field>`, as policies write it
    purposes: frozenset[str]
    membership: bool = False  # being on its list reveals status
    explicit: bool = False  # opened only by a rule naming it, even in a policy that names no entry point


def _entry(
    field: str, purposes: Iterable[str], *, membership: bool = False, explicit: bool = False, root: str = ROOT
) -> tuple[str, EntryPoint]:
    name = f"{root}.{field}"
    return name, EntryPoint(name, frozenset(purposes), membership, explicit or root == MUTATION)


ENTRY_POINTS: Final[Mapping[str, EntryPoint]] = dict(
    [
        # A household or person by key: what every department system asks; its fields are governed one by one.
        _entry("household", EVERY_READ),
        _entry("person", EVERY_READ),
        _entry("households", EVERY_READ),
        # Only the student-aid purpose may learn who qualifies for aid, and why.
        _entry("eligibleStudents", {"student-aid"}, membership=True),
        # Counts per county: aggregates for the offices that monitor and compare.
        _entry("keyTargetDistribution", {"assistance-review", "comparison", "case-management"}),
        _entry("accessLog", {"audit"}),
        # The casework ledgers: who was found missing aid, who shows signs of sliding back (issue 10).
        _entry("comparisonRuns", {"comparison"}, explicit=True),
        _entry("comparisonRun", {"comparison"}, membership=True, explicit=True),
        _entry("alerts", {"case-management"}, membership=True, explicit=True),
        # Writes: never open unless named.
        _entry("updateComparisonItem", {"comparison"}, root=MUTATION),
        _entry("updateAlert", {"case-management"}, root=MUTATION),
    ]
)


def is_entry_point(target: str) -> bool:
    return target.startswith((f"{ROOT}.", f"{MUTATION}."))


def governs(target: str) -> bool:
    """Whether a rule on `target` makes the policy name its entry points (then only rules open them):
    rules on explicit entry points do not, since those are opened only by their own rules anyway."""
    entry = ENTRY_POINTS.get(target)
    return is_entry_point(target) and not (entry is not None and entry.explicit)


def check_rule(target: str, purpose: str, where: str) -> str | None:
    """What is wrong with a policy rule on an entry point for `purpose`, or None."""
    entry = ENTRY_POINTS.get(target)
    if entry is None:
        known = ", ".join(sorted(ENTRY_POINTS))
        return f"{where}: {target!r} is not an entry point ({known})"
    if purpose not in entry.purposes:
        served = ", ".join(sorted(entry.purposes))
        return f"{where}: {target} serves only the purposes {served}, not {purpose!r}"
    return None


@dataclass(frozen=True)
class EntryDecision:
    granted: bool
    role: str | None  # the role whose rule decided, if a rule did
    why: str


def decide(
    rules: Iterable[tuple[str, Mapping[str, object]]], purpose: str, name: str, *, explicit: bool
) -> EntryDecision:
    """Whether the entry point `name` is open to a request, and why: `rules` are its roles' rules for
    `purpose` (role, target -> action), `explicit` whether the policy has entry-point rules (then only
    those grant; otherwise every entry point that declares the purpose is open, but the explicit ones)."""
    entry = ENTRY_POINTS.get(name)
    if entry is None:
        return EntryDecision(False, None, f"{name} is not an entry point")
    if purpose not in entry.purposes:
        served = ", ".join(sorted(entry.purposes))
        return EntryDecision(False, None, f"{name} serves only the purposes {served}, not {purpose!r}")
    rules = list(rules)
    for role, role_rules in rules:
        if str(role_rules.get(name)) == "allow":
            return EntryDecision(True, role, f"{role} / {purpose} / {name}: allow")
    if not explicit and not entry.explicit:
        why = f"the policy names no entry point: {name} is open for {purpose}, which it serves"
        return EntryDecision(True, None, why)
    for role, role_rules in rules:
        if name in role_rules:
            return EntryDecision(False, role, f"{role} / {purpose} / {name}: {role_rules[name]}")
    if entry.explicit:
        return EntryDecision(False, None, f"{name} is opened only by a rule naming it, and none does for {purpose}")
    why = f"the policy names entry points, and none of its rules for {purpose} opens {name}"
    return EntryDecision(False, None, why)


def granted(rules: Iterable[tuple[str, Mapping[str, object]]], purpose: str, *, explicit: bool) -> frozenset[str]:
    """The entry points a request may use: `rules` are its roles' rules for `purpose` (see `decide`)."""
    rules = list(rules)
    return frozenset(name for name in ENTRY_POINTS if decide(rules, purpose, name, explicit=explicit).granted)


def refusal(entry_points: frozenset[str], field: str, *, purpose: str | None, root: str = ROOT) -> str | None:
    """Why a request may not use the root field `field` of `root` (None: it may)."""
    name = f"{root}.{field}"
    if name in entry_points:
        return None
    entry = ENTRY_POINTS.get(name)
    if entry is not None and purpose not in entry.purposes:
        served = ", ".join(sorted(entry.purposes))
        return f"{field} is answered only for the purposes {served}"
    return f"{field} is not granted to this client's roles for the purpose {purpose!r}"
