"""What a response disclosed: the fields revealed, masked and withheld, and the paths withheld.

Worked out after execution from the query's disclosure profile (the schema's analysis of it, made
once per document and operation) and what the request's `Access` saw while building objects: which
governed types were returned, and which values were special. The answer is one entry per path
pattern (`household.members.phone`), never one per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from auth.access import Access
from auth.labels import GOVERNED


@dataclass(frozen=True)
class Selected:
    path: str  # response keys from the root, dot-joined: aliases as asked, list levels implicit
    type_name: str
    field_name: str


@dataclass(frozen=True)
class Disclosure:
    revealed: list[str]
    masked: list[str]
    withheld: list[str]
    withheld_paths: list[dict[str, str]]

    @property
    def personal(self) -> bool:
        return bool(self.revealed or self.masked)


@dataclass(frozen=True)
class DisclosureProfile:
    """What a document's operation selects, as the schema's analysis of it found (schema/analysis.py)."""

    operation: str | None  # the operation's name, when it has one
    entry_points: tuple[str, ...]  # the root fields asked, each once
    fields: tuple[Selected, ...]  # the governed fields selected, each response path once


def disclose(access: Access, selected: tuple[Selected, ...]) -> Disclosure:
    """Classify every selected field of the types this request returned.

    Public fields are structure: recorded only when they are withheld (a policy that denies `public`).
    """
    revealed: set[str] = set(access.memberships)
    masked: set[str] = set()
    withheld: set[str] = set()
    paths: list[dict[str, str]] = []
    buckets = {"revealed": revealed, "masked": masked, "withheld": withheld}
    for item in selected:
        if item.type_name not in access.seen:
            continue
        target = f"{item.type_name}.{item.field_name}"
        static = access.view.types[item.type_name].outcome[item.field_name]
        outcomes = {static} | access.exceptions.get(target, set())
        if GOVERNED[item.type_name][item.field_name] == "public":
            outcomes.discard("revealed")
        for outcome in outcomes:
            buckets[outcome].add(target)
        if "withheld" in outcomes:
            # One reason for every withholding: a reason that set special values apart would point at them.
            paths.append({"path": item.path, "field": target, "reason": "policy"})
    for target, presented in sorted(access.presented.items()):  # values shown apart from their type (evidence)
        type_name, _, field_name = target.partition(".")
        for outcome in presented:
            if not (outcome == "revealed" and GOVERNED[type_name][field_name] == "public"):
                buckets[outcome].add(target)
        if target in access.presented_paths:
            paths.append({"path": access.presented_paths[target], "field": target, "reason": "policy"})
    return Disclosure(sorted(revealed), sorted(masked), sorted(withheld), paths)


def extensions_of(disclosure: Disclosure) -> dict[str, Any]:
    return {"withheld": disclosure.withheld_paths} if disclosure.withheld_paths else {}
