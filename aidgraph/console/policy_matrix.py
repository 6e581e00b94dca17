"""The permission matrix of a policy version: rows are fields, columns are role·purpose pairs.

Each cell is the engine's own decision on the field (`auth.policy_admin.field_decisions`, built on
`auth.policy.decide_field`), with the rule that made it: the page shows what a request would get,
never a second reading of the rules. The filter narrows rows (type, label, a text in the field's
name) and columns (the roles chosen), so that 9 roles and some 240 fields stay readable.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from auth.labels import GOVERNED, LABELS_ORDER
from auth.policy import Decision, Policy
from auth.policy_admin import field_decisions


@dataclass(frozen=True)
class MatrixFilter:
    """What the visitor asked to see; empty means everything."""

    type_name: str = ""
    label: str = ""
    roles: tuple[str, ...] = ()
    text: str = ""

    @classmethod
    def of(cls, query: Mapping[str, str], roles: Sequence[str]) -> MatrixFilter:
        """From a query string (`type`, `label`, `role` repeated, `q`), keeping only known names."""
        type_name = query.get("type", "")
        label = query.get("label", "")
        getlist = getattr(query, "getlist", None)
        asked = getlist("role") if getlist else []
        return cls(
            type_name=type_name if type_name in GOVERNED else "",
            label=label if label in LABELS_ORDER else "",
            roles=tuple(role for role in roles if role in asked),
            text=query.get("q", "").strip()[:100],
        )


@dataclass(frozen=True)
class Column:
    role: str
    purpose: str


@dataclass(frozen=True)
class Cell:
    column: Column
    decision: Decision

    @property
    def kind(self) -> str:
        """allow, mask or deny: the badge's colour."""
        return self.decision.action.kind


@dataclass(frozen=True)
class Row:
    target: str  # Type.field
    label: str
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Matrix:
    columns: tuple[Column, ...]
    rows: tuple[Row, ...]
    fields: int  # governed fields in all, before the filter


def roles_of(policy: Policy) -> list[str]:
    return sorted(policy.rules)


def matrix(policy: Policy, chosen: MatrixFilter) -> Matrix:
    """The cells the filter selects, each the engine's decision for its role, purpose and field."""
    roles = chosen.roles or tuple(roles_of(policy))
    columns = tuple(Column(role, purpose) for role in roles for purpose in sorted(policy.rules.get(role, {})))
    by_column = {column: field_decisions(policy, [column.role], column.purpose) for column in columns}
    text = chosen.text.casefold()
    rows = []
    for type_name, labels in GOVERNED.items():
        if chosen.type_name and type_name != chosen.type_name:
            continue
        for field_name, label in labels.items():
            target = f"{type_name}.{field_name}"
            if (chosen.label and label != chosen.label) or (text and text not in target.casefold()):
                continue
            cells = tuple(Cell(column, by_column[column][target]) for column in columns)
            rows.append(Row(target, label, cells))
    return Matrix(columns, tuple(rows), sum(len(labels) for labels in GOVERNED.values()))


def cell(policy: Policy, role: str, purpose: str, target: str) -> Decision | None:
    """One cell's decision; None for a role, purpose or field the matrix does not have."""
    type_name, _, field_name = target.partition(".")
    if purpose not in policy.rules.get(role, {}) or field_name not in GOVERNED.get(type_name, {}):
        return None
    return field_decisions(policy, [role], purpose)[target]
