"""What one request may see, applied where objects are made: policy per object, regions per row.

`Access.apply` runs once for every governed object the request builds (`schema.records.build`),
with the compiled view of the caller's roles and purpose: it nulls denied fields, masks masked
ones, withholds special values, and notes the subjects and the per-value exceptions the audit
event and the response's `extensions` report afterwards.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Collection, Mapping, MutableMapping
from dataclasses import dataclass, field
from typing import Any

from auth import entry_points, masks
from auth.policy import (
    DENY,
    PSEUDONYM,
    Action,
    CompiledPolicy,
    FieldRule,
    PolicyView,
    is_special,
    on_field,
    unrestricted_view,
    weaker,
)
from auth.principal import Principal
from resolvers.rules.regions import Region, covered

EVERYWHERE: tuple[str, ...] = ("",)
"""The regions of the hub's own computations: every division code starts with the empty prefix."""


def visible_prefixes(asked: str, regions: tuple[str, ...]) -> list[str]:
    """The parts of the asked region prefix that lie inside the caller's regions (none: nothing visible)."""
    return [part.prefix for part in Region(asked).within(map(Region, regions))]


Applier = Callable[[MutableMapping[str, Any], Mapping[str, Any]], None]
"""`Access.apply` bound to one type and the attrs its objects carry: `(values, record)`."""


@dataclass(frozen=True)
class Miss:
    """A look-up by key (`person`, `household`, `accessLog`) that found nothing visible to the caller.

    `why` is for the trail alone (`not found`, `outside the caller's regions`, `rate limited`): the
    caller gets the same answer whichever it was.
    """

    entry_point: str
    key: str
    why: str


@dataclass
class Access:
    view: PolicyView
    regions: tuple[str, ...]
    today: dt.date = field(default_factory=dt.date.today)
    principal: Principal | None = None
    purpose: str | None = None
    case_id: str | None = None
    policy_version: int | None = None
    subjects: set[str] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)
    exceptions: dict[str, set[str]] = field(default_factory=dict)
    """`Type.field` -> outcomes that differ from the type's view for some values (special, mask failed)."""
    memberships: set[str] = field(default_factory=set)
    """Entry points used whose lists reveal status by membership: disclosed even with no field selected."""
    misses: list[Miss] = field(default_factory=list)
    """Look-ups by key that found nothing the caller may see: audited, never told apart in the answer."""
    actor: str | None = None
    """The person a mutation is made for (`X-Actor`): required on mutations, recorded with every change."""
    changes: list[str] = field(default_factory=list)
    """What this request's mutation changed, in words for its audit event (empty: nothing changed)."""
    presented: dict[str, set[str]] = field(default_factory=dict)
    """`Type.field` -> outcomes of values presented apart from their own type's object (a finding's evidence):
    disclosed like the field itself, though the query selects them only as part of a JSON value."""
    presented_paths: dict[str, str] = field(default_factory=dict)
    """`Type.field` -> the response path (without list indexes) of a value presented apart that was withheld."""

    @classmethod
    def unrestricted(cls, today: dt.date | None = None) -> Access:
        return cls(view=unrestricted_view(), regions=EVERYWHERE, today=today or dt.date.today())

    def covers(self, division_code: str | None) -> bool:
        return covered(division_code, map(Region, self.regions))

    def visible(self, asked_prefix: str) -> list[str]:
        return visible_prefixes(asked_prefix, self.regions)

    def enter(self, field_name: str, *, root: str = entry_points.ROOT) -> str | None:
        """Use the root field `field_name` (of `root`: Query or Mutation): why it is refused, or None once
        it is noted as used."""
        problem = entry_points.refusal(self.view.entry_points, field_name, purpose=self.purpose, root=root)
        if problem is None:
            entry = entry_points.ENTRY_POINTS.get(f"{root}.{field_name}")
            if entry is not None and entry.membership:
                self.memberships.add(entry.name)
        return problem

    def withholds(self, type_name: str, field_name: str) -> bool:
        """For fields resolved apart from their object (a household's members): is the field withheld?"""
        return self.view.types[type_name].outcome[field_name] == "withheld"

    def apply(self, type_name: str, values: MutableMapping[str, Any], record: Mapping[str, Any]) -> None:
        """Enforce the view of `type_name` on one object's field values, made from the stored `record`."""
        self._enforce(type_name, self.view.types[type_name].rules, values, record)

    def applier(self, type_name: str, attrs: Collection[str]) -> Applier:
        """`apply` for many objects of one type that carry only `attrs` (an export's rows): the view's rules
        for those attrs are picked once, then run per object by the same code as `apply`."""
        rules = tuple(rule for rule in self.view.types[type_name].rules if rule.attr in attrs)
        return functools.partial(self._enforce, type_name, rules)

    def _enforce(
        self, type_name: str, rules: tuple[FieldRule, ...], values: MutableMapping[str, Any], record: Mapping[str, Any]
    ) -> None:
        self.seen.add(type_name)
        subject = record.get("id_number")
        if subject is not None:
            self.subjects.add(subject)
        for rule in rules:
            if rule.attr not in values:
                continue  # a partial object (an export row) carries only the fields it returns
            action = rule.action
            special = rule.special is not None and is_special(rule.special, record, self.today)
            if special:
                # A special value needs both: its field's own rule and a grant of the `special` label.
                action = weaker(action, on_field(self.view.special, rule.name))
                self._note(type_name, rule.name, action)
            if action.kind == "allow":
                continue
            if action.kind == "deny":
                values[rule.attr] = None
                continue
            # Per-value tests are of minors only (an HIV field is treated alike for every value).
            masked = self._mask(action, values[rule.attr], minor=special)
            if masked is None and values[rule.attr] is not None:
                self._note(type_name, rule.name, DENY)
            values[rule.attr] = masked

    def present_apart(
        self, type_name: str, values: MutableMapping[str, Any], record: Mapping[str, Any], *, path: str
    ) -> None:
        """`apply` to values shown outside an object of their type (a JSON value of columns), noting each
        field's outcome for the audit event and the response's `withheld`, as `disclose` would for a field
        selected on its own type."""
        before = dict(values)
        self.apply(type_name, values, record)
        for attr, value in before.items():
            if value is None:
                continue
            rule = next((rule for rule in self.view.types[type_name].rules if rule.attr == attr), None)
            name = rule.name if rule is not None else _camel(attr)
            after = values.get(attr)
            outcome = "revealed" if after == value else ("withheld" if after is None else "masked")
            target = f"{type_name}.{name}"
            self.presented.setdefault(target, set()).add(outcome)
            if outcome == "withheld":
                self.presented_paths.setdefault(target, path)

    def _mask(self, action: Action, value: Any, *, minor: bool) -> str | None:
        if value is None:
            return None
        if action.mask == PSEUDONYM:
            key = self.principal.pseudonym_key if self.principal is not None else b""
            try:
                return masks.pseudonym(value, key=key)
            except masks.MaskError:
                return None
        return masks.apply_mask(action.mask or "", value, minor=minor)  # never the raw value: None when it cannot

    def _note(self, type_name: str, field_name: str, action: Action) -> None:
        outcome = {"allow": "revealed", "mask": "masked", "deny": "withheld"}[action.kind]
        self.exceptions.setdefault(f"{type_name}.{field_name}", set()).add(outcome)


def _camel(attr: str) -> str:
    first, *rest = attr.split("_")
    return first + "".join(word.capitalize() for word in rest)


class PurposeNotAllowed(ValueError):
    """The caller may not declare the purpose; the message says so without naming anything else."""


def access_for(principal: Principal, purpose: str, policy: CompiledPolicy, *, case_id: str | None = None) -> Access:
    """The one way a caller's access is made: its roles' view of `policy` for `purpose`, inside its regions.

    Every path builds it here (the GraphQL gate, exports, dry runs, webhooks), so none can drift from
    the others in what it lets through.
    """
    if purpose not in principal.purposes:
        raise PurposeNotAllowed(f"purpose {purpose!r} is not allowed for client {principal.client_id}")
    return Access(
        view=policy.view(principal.roles, purpose),
        regions=principal.regions,
        principal=principal,
        purpose=purpose,
        case_id=case_id,
        policy_version=policy.version,
    )


def operator_access(roles: frozenset[str], purpose: str, policy: CompiledPolicy) -> Access:
    """An operator's access at the command line: the view of `roles`, in every region, with no client."""
    return Access(view=policy.view(roles, purpose), regions=EVERYWHERE, purpose=purpose, policy_version=policy.version)
