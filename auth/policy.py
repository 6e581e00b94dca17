"""Field policies (DESIGN §3): `(role, purpose, Type.field | label) -> allow | mask[:format] | deny`.

A policy is a YAML document, role -> purpose -> target -> action:

    student-aid:
      student-aid:
        public: allow
        personal: mask          # every personal field with its natural mask (withheld if it has none)
        Person.name: allow      # a field rule overrides its label's rule
        Person.phone: deny

Entry points are targets too (`Query.eligibleStudents: allow | deny`): see auth.entry_points.

Default deny. Across several roles the most revealing action wins. A `special` value (an HIV
diagnosis, a minor's identity; `resolvers.rules.special`) is withheld unless the `special` label
itself is granted for the purpose; a rule on the field does not unlock it. Nothing a role sees may
single a special value out:

- a role and purpose that may see in full a field that can hold special values (SPECIAL) must also
  hold a `special` grant (allow or mask), or the policy is refused when loaded: the rule would show
  the field with its special values cut out, and the gaps would point at them;
- a field that can hold HIV codes is treated alike for every value: where the `special` grant is
  weaker than the field's rule, every value gets the `special` grant (every diagnosis to its chapter
  letter, or none shown), since an HIV code masked beside other codes in full would mark it. Being
  a minor is no secret (the age is personal data), so a minor's identity is judged value by value.

A policy is checked against the schema's field table when loaded (unknown targets, actions and mask
formats are refused, saying where), and compiled once per (roles, purpose) into a view per type:
only the fields that are not plainly revealed, so applying it costs a short loop per object. The
views are built from `decide_field`, which gives each field's action with the one rule that decided
it (auth/policy_admin/ explains and compares policies with the same decisions).
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Final, Literal

import yaml

from auth import entry_points, masks
from auth.labels import GOVERNED, LABELS_ORDER, NATURAL_MASKS, SPECIAL, UNIFORM_SPECIAL, Label, SpecialTest
from resolvers.rules import special as special_rules

Kind = Literal["allow", "mask", "deny"]
_RANK: Final[dict[Kind, int]] = {"deny": 0, "mask": 1, "allow": 2}
PSEUDONYM: Final = "pseudonym"
MASK_FORMATS: Final = frozenset({*masks.MASKS, PSEUDONYM})


class PolicyError(ValueError):
    """A policy document that cannot be applied; the message names the place."""


@dataclass(frozen=True)
class Action:
    kind: Kind
    mask: str | None = None  # the format; None with kind "mask" means each field's natural mask

    def __str__(self) -> str:
        return f"mask:{self.mask}" if self.kind == "mask" and self.mask else self.kind


ALLOW, DENY = Action("allow"), Action("deny")


@dataclass(frozen=True)
class Policy:
    """A checked policy document: rules[role][purpose][target] = action."""

    rules: Mapping[str, Mapping[str, Mapping[str, Action]]]
    text: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()

    def purposes(self) -> frozenset[str]:
        return frozenset(purpose for by_purpose in self.rules.values() for purpose in by_purpose)

    @property
    def governs_entry_points(self) -> bool:
        """Whether any rule names an entry point: then only such rules open one (auth.entry_points)."""
        return any(
            entry_points.governs(target)
            for by_purpose in self.rules.values()
            for targets in by_purpose.values()
            for target in targets
        )


def _parse_action(text: Any, where: str) -> Action:
    if not isinstance(text, str):
        raise PolicyError(f"{where}: the action must be allow, deny, mask or mask:<format>, not {text!r}")
    if text in ("allow", "deny"):
        return Action(text)  # type: ignore[arg-type]
    if text == "mask":
        return Action("mask")
    kind, _, mask_format = text.partition(":")
    if kind == "mask" and mask_format in MASK_FORMATS:
        return Action("mask", mask_format)
    known = ", ".join(sorted(MASK_FORMATS))
    raise PolicyError(f"{where}: unknown action {text!r} (allow, deny, mask or mask:<format>; formats: {known})")


def _check_target(target: str, action: Action, where: str) -> None:
    if target in LABELS_ORDER:
        if action.mask is not None:
            raise PolicyError(f"{where}: a label rule masks each field its own way: write `mask`, not {action}")
        return
    type_name, _, field_name = target.partition(".")
    labels = GOVERNED.get(type_name)
    if labels is None or field_name not in labels:
        labels_text = ", ".join(LABELS_ORDER)
        raise PolicyError(f"{where}: {target!r} is neither a label ({labels_text}) nor a governed Type.field")
    if action.kind == "mask" and (action.mask or NATURAL_MASKS.get(field_name)) is None:
        raise PolicyError(f"{where}: {target} has no natural mask; name a format (mask:<format>) or deny it")
    if (
        action.mask is not None
        and action.mask != NATURAL_MASKS.get(field_name)
        and not (action.mask == PSEUDONYM and NATURAL_MASKS.get(field_name) == "id")
    ):
        raise PolicyError(f"{where}: mask:{action.mask} does not fit {target} (its values are not of that kind)")


def check_field_rule(target: str, text: str) -> Action:
    """The action of a rule `target: text` on one governed field, checked as a policy's rules are (the
    console offers only the actions this accepts); raises PolicyError saying why not."""
    action = _parse_action(text, target)
    _check_target(target, action, target)
    return action


def _check_entry_point(target: str, purpose: str, action: Action, where: str) -> None:
    if action.kind == "mask":
        raise PolicyError(f"{where}: an entry point is allowed or denied, not masked")
    problem = entry_points.check_rule(target, purpose, where)
    if problem is not None:
        raise PolicyError(problem)


def _mapping(value: Any, where: str, what: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(key, str) for key in value):
        raise PolicyError(f"{where}: expected a mapping of {what}")
    return value


def load_policy(text: str, *, source: str = "policy") -> Policy:
    """Parse and check a YAML policy; errors name the file, role, purpose and target."""
    try:
        document = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise PolicyError(f"{source}: not valid YAML: {error}") from None
    rules: dict[str, dict[str, dict[str, Action]]] = {}
    for role, by_purpose in _mapping(document or {}, source, "role -> purpose -> rules").items():
        for purpose, targets in _mapping(by_purpose, f"{source}: {role}", "purpose -> rules").items():
            where = f"{source}: {role} / {purpose}"
            for target, text_action in _mapping(targets or {}, where, "target -> action").items():
                action = _parse_action(text_action, f"{where} / {target}")
                if entry_points.is_entry_point(target):
                    _check_entry_point(target, purpose, action, f"{where} / {target}")
                else:
                    _check_target(target, action, f"{where} / {target}")
                rules.setdefault(role, {}).setdefault(purpose, {})[target] = action
    _check_special_grants(rules, source)
    return Policy(rules=rules, text=text)


def _check_special_grants(rules: Mapping[str, Mapping[str, Mapping[str, Action]]], source: str) -> None:
    """Refuse a role and purpose that shows a field of SPECIAL in full without a `special` grant."""
    for role, by_purpose in rules.items():
        for purpose, targets in by_purpose.items():
            if targets.get("special", DENY).kind != "deny":
                continue
            for type_name, fields in SPECIAL.items():
                for field_name in fields:
                    label = GOVERNED[type_name][field_name]
                    if _decide_rule([(role, targets)], purpose, type_name, field_name, label).action != ALLOW:
                        continue
                    target = f"{type_name}.{field_name}"
                    rule = target if target in targets else label
                    raise PolicyError(
                        f"{source}: {role} / {purpose} / {rule}: shows {target} in full, which can hold special"
                        f" values, and {purpose} has no `special` rule: grant `special: mask` (or allow), or mask"
                        f" or deny {target}"
                    )


def export_policy(policy: Policy) -> str:
    return policy.text


# --- compiled views ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FieldRule:
    """One field of a type whose value is not plainly revealed: its action, and its special test."""

    attr: str
    name: str
    action: Action
    special: SpecialTest | None


@dataclass(frozen=True)
class TypeView:
    name: str
    rules: tuple[FieldRule, ...]
    outcome: Mapping[str, str]  # field -> revealed | masked | withheld, before special values


@dataclass(frozen=True)
class PolicyView:
    """What one combination of roles sees for one purpose, type by type."""

    types: Mapping[str, TypeView]
    special: Action
    entry_points: frozenset[str] = frozenset()  # `Query.<field>` names this view may use


def _snake(name: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in name)


def weaker(first: Action, second: Action) -> Action:
    """The less revealing of two actions (the first, where they rank the same)."""
    return second if _RANK[second.kind] < _RANK[first.kind] else first


def on_field(action: Action, field_name: str) -> Action:
    """A label's action as it applies to one field: plain `mask` is its natural mask, or deny if it has none."""
    if action.kind == "mask" and action.mask is None:
        natural = NATURAL_MASKS.get(field_name)
        return Action("mask", natural) if natural else DENY
    return action


def _outcome(action: Action) -> str:
    return {"allow": "revealed", "mask": "masked", "deny": "withheld"}[action.kind]


# --- decisions: what a field gets, and the rule that decided it ---------------------------------

DecisionKind = Literal["field rule", "label rule", "special value", "default deny", "entry point"]
RoleRules = Sequence[tuple[str, Mapping[str, Action]]]
"""The rules of each of a request's roles for its purpose, `(role, target -> action)`, roles sorted."""


@dataclass(frozen=True)
class Decision:
    """What some roles get of one field (or entry point) for a purpose, and the one rule that decided it.

    The compiled views are made of these, so that an explanation can never differ from what is enforced.
    """

    action: Action  # for a field: allow, mask:<format> or deny (a plain `mask` already resolved)
    kind: DecisionKind
    rule: str  # the deciding rule as `role / purpose / target: action`, or why no rule applies
    role: str | None = None  # the role whose rule decided (several roles: the most revealing one's)
    special: Decision | None = None  # what a special value of this field gets, where that differs (a minor's id)


def role_rules(policy: Policy, roles: Iterable[str], purpose: str) -> list[tuple[str, Mapping[str, Action]]]:
    return [(role, policy.rules.get(role, {}).get(purpose, {})) for role in sorted(roles)]


def _decide_rule(by_role: RoleRules, purpose: str, type_name: str, field_name: str, label: Label) -> Decision:
    """A field rule overrides its label's rule for a role; across roles the most revealing wins; else deny."""
    target = f"{type_name}.{field_name}"
    best: Decision | None = None
    for role, targets in by_role:
        if target in targets:
            found = Decision(targets[target], "field rule", f"{role} / {purpose} / {target}: {targets[target]}", role)
        elif label in targets:
            found = Decision(targets[label], "label rule", f"{role} / {purpose} / {label}: {targets[label]}", role)
        else:
            continue
        if best is None or _RANK[found.action.kind] > _RANK[best.action.kind]:
            best = found
    if best is None:
        roles = ", ".join(role for role, _ in by_role) or "no role"
        return Decision(DENY, "default deny", f"no rule of {roles} for {purpose} names {target} or its label {label}")
    action = on_field(best.action, field_name)
    if action.kind == "deny" and best.action.kind == "mask":
        return replace(best, action=action, rule=f"{best.rule} ({field_name} has no natural mask: withheld)")
    return replace(best, action=action)


def decide_special(by_role: RoleRules, purpose: str) -> Decision:
    """The `special` grant of some roles for a purpose: the most revealing of their `special` rules."""
    best: Decision | None = None
    for role, targets in by_role:
        action = targets.get("special")
        if action is not None and (best is None or _RANK[action.kind] > _RANK[best.action.kind]):
            best = Decision(action, "special value", f"{role} / {purpose} / special: {action}", role)
    return best or Decision(DENY, "special value", f"no rule for {purpose} grants `special`: special values withheld")


def decide_field(by_role: RoleRules, purpose: str, type_name: str, field_name: str, special: Decision) -> Decision:
    """The decision on `Type.field`: its rule, then what the `special` grant makes of special values."""
    decision = _decide_rule(by_role, purpose, type_name, field_name, GOVERNED[type_name][field_name])
    test = SPECIAL.get(type_name, {}).get(field_name)
    if test is None:
        return decision
    on_special = weaker(decision.action, on_field(special.action, field_name))
    if on_special == decision.action:
        return decision
    weakened = replace(special, action=on_special)
    if test[0] in UNIFORM_SPECIAL:
        # Every value as a special one, so that no value stands out; none is tested one by one.
        return replace(weakened, rule=f"{special.rule}, for every value alike (its own rule: {decision.rule})")
    return replace(decision, special=weakened)


def decide_entry_point(policy: Policy, by_role: RoleRules, purpose: str, name: str) -> Decision:
    """Whether `Query.<field>` (or `Mutation.<field>`) is open to these roles for the purpose, and why."""
    found = entry_points.decide(by_role, purpose, name, explicit=policy.governs_entry_points)
    return Decision(ALLOW if found.granted else DENY, "entry point", found.why, found.role)


# --- a policy version, compiled ------------------------------------------------------------------


@dataclass
class CompiledPolicy:
    """A policy version, ready to answer requests: views are compiled on first use and kept."""

    policy: Policy
    version: int | None  # None: a draft that is not stored (a dry run)
    _views: dict[tuple[frozenset[str], str], PolicyView] = field(default_factory=dict)

    def view(self, roles: frozenset[str], purpose: str) -> PolicyView:
        key = (roles, purpose)
        found = self._views.get(key)
        if found is None:
            found = self._views[key] = compile_view(self.policy, roles, purpose)
        return found


def compile_view(policy: Policy, roles: frozenset[str], purpose: str) -> PolicyView:
    by_role = role_rules(policy, roles, purpose)
    special = decide_special(by_role, purpose)
    types = {}
    for type_name, labels in GOVERNED.items():
        specials = SPECIAL.get(type_name, {})
        field_rules, outcome = [], {}
        for field_name in labels:
            action = decide_field(by_role, purpose, type_name, field_name, special).action
            test = specials.get(field_name)
            if test is not None and test[0] in UNIFORM_SPECIAL:
                test = None  # decided for every value alike: none is tested one by one
            outcome[field_name] = _outcome(action)
            if action != ALLOW or test is not None:
                field_rules.append(FieldRule(_snake(field_name), field_name, action, test))
        types[type_name] = TypeView(type_name, tuple(field_rules), outcome)
    granted = entry_points.granted(by_role, purpose, explicit=policy.governs_entry_points)
    return PolicyView(types=types, special=special.action, entry_points=granted)


@cache
def _unrestricted() -> PolicyView:
    types = {
        name: TypeView(name, (), {field_name: "revealed" for field_name in labels}) for name, labels in GOVERNED.items()
    }
    return PolicyView(types=types, special=ALLOW, entry_points=frozenset(entry_points.ENTRY_POINTS))


def unrestricted_view() -> PolicyView:
    """Everything revealed: for the hub's own computations and tests of data, never for a client."""
    return _unrestricted()


# --- special values -----------------------------------------------------------------------------


def is_special(test: SpecialTest, record: Mapping[str, Any], today: dt.date) -> bool:
    kind, column = test
    value = record.get(column)
    if not isinstance(value, str):
        return False
    if kind == "hiv":
        return special_rules.is_hiv(value)
    return special_rules.is_minor(value, today)
