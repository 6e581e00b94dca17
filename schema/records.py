"""What every department's types share: where a record came from, how a stored row becomes a type, parts."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing
from collections.abc import Callable, Iterable, Mapping
from enum import Enum
from typing import Any, Literal, TypeVar

import sqlalchemy as sa
import strawberry

from adapters.base import FileSpec
from adapters.store import Record
from auth.access import Access

T = TypeVar("T")


@strawberry.type(description="Where a record comes from: the department, its native table and the record's key.")
class Source:
    department: str | None
    table: str | None
    record_key: str | None
    as_of: dt.datetime | None = strawberry.field(
        description="When the department's data was current (its export time)."
    )


def as_utc(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; the store writes UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def source_of(access: Access, spec: FileSpec, record: Mapping[str, Any]) -> Source:
    values = {
        "department": spec.department,
        "table": spec.name,
        "record_key": record["record_key"],
        "as_of": as_utc(record["as_of"]),
    }
    access.apply("Source", values, record)
    return Source(**values)


_BUILDERS: dict[tuple[type, str], list[tuple[str, Callable[[Any], Any] | None]]] = {}


def _converters(cls: type, spec: FileSpec) -> list[tuple[str, Callable[[Any], Any] | None]]:
    """For each field of a record type that is a stored column: how its value becomes the GraphQL value."""
    hints = typing.get_type_hints(cls)
    columns = {column.name for column in spec.columns}
    dates = {column.name for column in spec.columns if isinstance(column.type, sa.Date)}
    converters: list[tuple[str, Callable[[Any], Any] | None]] = []
    for field in dataclasses.fields(cls):
        if field.name not in columns or getattr(field, "base_resolver", None) is not None:
            continue  # the source and other parts are attached by the caller; resolver fields are computed
        hint = hints[field.name]
        enum = next(
            (arg for arg in (hint, *typing.get_args(hint)) if isinstance(arg, type) and issubclass(arg, Enum)), None
        )
        if enum is not None:
            converters.append((field.name, enum.__getitem__))
        elif str in (hint, *typing.get_args(hint)) and field.name in dates:
            converters.append((field.name, dt.date.isoformat))  # shown as text, so that it can be masked
        else:
            converters.append((field.name, None))
    return converters


def build(access: Access, cls: type[T], spec: FileSpec, record: Mapping[str, Any], **parts: Any) -> T:
    """A record type from a stored row, as the request's access allows it to be seen.

    Enum names become enum members, the source and `parts` are attached, and then the policy is
    applied once to the whole object (DESIGN §7: not per field).
    """
    converters = _BUILDERS.get((cls, spec.table_name))
    if converters is None:
        converters = _BUILDERS[(cls, spec.table_name)] = _converters(cls, spec)
    values: dict[str, Any] = {"source": source_of(access, spec, record), **parts}
    for name, convert in converters:
        value = record[name]
        values[name] = convert(value) if convert is not None and value is not None else value
    access.apply(cls.__name__, values, record)
    return cls(**values)


def build_all(access: Access, cls: type[T], spec: FileSpec, records: Iterable[Mapping[str, Any]]) -> list[T]:
    return [build(access, cls, spec, record) for record in records]


@dataclasses.dataclass(frozen=True)
class Part:
    """A department's field on Person or Household, named after the department: `person { disability { … } }`.

    Its type only holds the holder's keys; the type's resolvers read the department's records. Registered
    in `schema.parts`, under the department's name.
    """

    holder: Literal["Person", "Household"]
    type: type
    make: Callable[[Record], object]
    """The part of one holder, from the holder's stored row (a registry person or household)."""
    description: str | None = None
