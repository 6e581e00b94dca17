"""Operations drawn at random from the schema: below `Query.household` and `Query.person`, random subsets of
fields to a bounded depth, some aliased (a field may be chosen twice, under two aliases, with different
selections), some wrapped in inline fragments (with and without a type condition) or named fragments,
and `__typename` here and there.

Every alias is new in its document, so aliases never conflict; a document the hub refuses anyway (more
aliases than its limit, say) is for the test to discard (`problems`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graphql import GraphQLObjectType, GraphQLSchema, get_named_type, parse
from hypothesis import strategies as st

from schema import create_schema
from tests.compiled.operations import (
    ANXI_HIV_PATIENT,
    ANXI_HOUSEHOLD,
    NANAN_CHILD,
    NANAN_HEAD,
    NANAN_HIV_HOUSEHOLD,
    NANAN_HIV_PATIENT,
    NANAN_HOUSEHOLD,
    UNKNOWN_HOUSEHOLD,
    UNKNOWN_PERSON,
)

HUB_SCHEMA = create_schema()
GRAPHQL_SCHEMA: GraphQLSchema = HUB_SCHEMA._schema
MAX_DEPTH = 4  # object levels below the root field: deep enough for household -> members -> household -> members
MAX_FIELDS = 4  # fields drawn per selection set, before fragments and `__typename`
RELATIONS = frozenset({"members", "household"})
ROOTS = {"household": ("Household", "householdNumber", "n"), "person": ("Person", "idNumber", "id")}
HOUSEHOLDS = (NANAN_HOUSEHOLD, ANXI_HOUSEHOLD, NANAN_HIV_HOUSEHOLD, UNKNOWN_HOUSEHOLD)
PERSONS = (NANAN_HEAD, NANAN_CHILD, NANAN_HIV_PATIENT, ANXI_HIV_PATIENT, UNKNOWN_PERSON)


@dataclass(frozen=True)
class Generated:
    """A drawn operation: its text (the operation and its fragments), and the variables it is sent with."""

    text: str
    variables: dict[str, str]

    def __repr__(self) -> str:  # what hypothesis prints for a failing example: the document as written
        return f"Generated(variables={self.variables!r}, text=\n{self.text}\n)"


@dataclass
class _Document:
    """What a drawing collects besides the selection: fragments by name, and the aliases given so far."""

    fragments: list[str] = field(default_factory=list)
    names: int = 0

    def fresh(self, stem: str) -> str:
        self.names += 1
        return f"{stem}{self.names}"


def problems(text: str) -> list[str]:
    """What the hub refuses in a document (the schema's rules and the hub's own, such as its limits on
    aliases and depth), as registering it would; empty when it is valid."""
    return [error.message for error in HUB_SCHEMA.document_errors(parse(text))]


@st.composite
def operations(draw: st.DrawFn) -> Generated:
    document = _Document()
    # one root field: several of which one awaits run on the executor (graphql-core runs them together)
    roots = draw(st.lists(st.sampled_from(sorted(ROOTS)), min_size=1, max_size=1))
    selections = []
    variables: dict[str, str] = {}
    for root in roots:
        type_name, argument, variable = ROOTS[root]
        alias = f"{document.fresh(root)}: " if draw(st.booleans()) else ""
        body = draw(_selection(_object(type_name), 1, document))
        selections.append(f"{alias}{root}({argument}: ${variable}) {{ {body} }}")
        variables[variable] = draw(st.sampled_from(HOUSEHOLDS if root == "household" else PERSONS))
    declared = ", ".join(f"${name}: String!" for name in sorted(variables))
    operation = f"query Generated({declared}) {{\n  " + "\n  ".join(selections) + "\n}"
    return Generated("\n".join([operation, *document.fragments]), variables)


def _object(name: str) -> GraphQLObjectType:
    found = GRAPHQL_SCHEMA.type_map[name]
    assert isinstance(found, GraphQLObjectType)
    return found


@st.composite
def _selection(draw: st.DrawFn, parent: GraphQLObjectType, depth: int, document: _Document) -> str:
    """A selection set's contents on `parent`: fields (some twice, under aliases), fragments, `__typename`."""
    names = [name for name, found in parent.fields.items() if depth < MAX_DEPTH or not _is_object(found.type)]
    # The relations between households and members first: hypothesis draws the first choices most often,
    # and that is where a plan nests furthest (household -> members -> household ...).
    names.sort(key=lambda name: name not in RELATIONS)
    if not names:  # only objects below, and no room left for them
        return "__typename"
    chosen = draw(st.lists(st.sampled_from(names), min_size=1, max_size=MAX_FIELDS))
    items = [draw(_field(parent, name, depth, document)) for name in chosen]
    if draw(st.integers(0, 4)) == 0:
        items.append("__typename")
    return draw(_wrapped(parent, items, document))


@st.composite
def _field(draw: st.DrawFn, parent: GraphQLObjectType, name: str, depth: int, document: _Document) -> str:
    alias = f"{document.fresh(name)}: " if draw(st.integers(0, 2)) == 0 else ""
    target = get_named_type(parent.fields[name].type)
    if isinstance(target, GraphQLObjectType):
        return f"{alias}{name} {{ {draw(_selection(target, depth + 1, document))} }}"
    return f"{alias}{name}"


@st.composite
def _wrapped(draw: st.DrawFn, parent: GraphQLObjectType, items: list[str], document: _Document) -> str:
    """The items, each as it is, or gathered into an inline fragment (typed or not) or a named one."""
    kinds = draw(st.lists(st.sampled_from(("plain", "plain", "inline", "untyped", "named")), min_size=len(items)))
    groups: dict[str, list[str]] = {}
    for item, kind in zip(items, kinds, strict=False):
        groups.setdefault(kind, []).append(item)
    parts = list(groups.get("plain", []))
    if "inline" in groups:
        parts.append(f"... on {parent.name} {{ {' '.join(groups['inline'])} }}")
    if "untyped" in groups:
        parts.append(f"... {{ {' '.join(groups['untyped'])} }}")
    if "named" in groups:
        name = document.fresh(f"{parent.name}Part")
        document.fragments.append(f"fragment {name} on {parent.name} {{ {' '.join(groups['named'])} }}")
        parts.append(f"...{name}")
    return " ".join(parts)


def _is_object(output: Any) -> bool:
    return isinstance(get_named_type(output), GraphQLObjectType)
