"""The departments' fields on Person and Household: one line per department registers its parts.

Each department's records hang off a person or household under a field named after it
(`person { disability { … } }`), holding the department's part type. A part is a plain field, made
with its holder from the holder's row: it only holds the holder's keys, and a resolver per part and
holder would cost more than the part itself (DESIGN §7).

Person and Household inherit one such field per registered part (`HolderParts`). Strawberry fixes a
type's fields when its class is made, so parts are registered before `schema.registry` is first
imported, which the schema package leaves until the schema is first made (`create_schema`).
"""

from __future__ import annotations

from typing import Any, Literal

import strawberry

from adapters.store import Record
from schema import civil_affairs, disability, education, housing, medical, poverty
from schema.records import Part

PARTS: dict[str, tuple[Part, ...]] = {
    "civil_affairs": civil_affairs.PARTS,
    "education": education.PARTS,
    "medical": medical.PARTS,
    "housing": housing.PARTS,
    "disability": disability.PARTS,
    "poverty": poverty.PARTS,
}
"""Department (its name in `adapters.catalog`) -> its parts; the field on the holder is the department's name."""


class HolderParts:
    """The department fields of Person or Household, as registered when it is made."""

    def __init__(self, holder: Literal["Person", "Household"]) -> None:
        self.parts = {name: part for name, parts in PARTS.items() for part in parts if part.holder == holder}
        namespace: dict[str, Any] = {
            name: strawberry.field(description=part.description) for name, part in self.parts.items()
        }
        namespace["__annotations__"] = {name: part.type | None for name, part in self.parts.items()}
        self.fields: Any = strawberry.type(type(f"{holder}Parts", (), namespace))
        """A strawberry type with a field per part, for the holder to inherit (strawberry merges base fields)."""

    def of(self, record: Record) -> dict[str, object]:
        """Every part of one holder, by field name, from the holder's stored row."""
        return {name: part.make(record) for name, part in self.parts.items()}
