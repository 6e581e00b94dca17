"""What a department adapter is: its native files, their columns, how each row is validated, its labels.

A department module declares `DEPARTMENT = Department(...)`: for every native file (or
table of the same name in the department's database) the columns it has, how each cell is
parsed and translated, and which columns make a record's natural key. The hub's store
table for that file is derived from the same declaration, so names live in one place.
Beside its files, the department labels the fields of its GraphQL types (`Labels`), so that
adding a department never means editing the hub's label table (auth.labels derives it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.sql.schema import SchemaItem

from adapters.fields import Parser

metadata = sa.MetaData()

Label = Literal["public", "personal", "sensitive", "special"]
"""A field's sensitivity: `public` structure and aggregates, `personal` identifies or describes a resident,
`sensitive` health, disability, income, assistance and other finance; `special` is a value's, never a field's
(auth.labels)."""

RowCheck = Callable[[dict[str, Any]], str | None]
"""A cross-column rule: returns the reason a parsed row is bad, or None."""


class RowError(ValueError):
    """A native row that cannot be accepted; the message says which column and why."""


@dataclass(frozen=True)
class Column:
    native: str
    name: str
    parse: Parser
    type: sa.types.TypeEngine[Any]
    required: bool = False


@dataclass(frozen=True)
class FileSpec:
    """One native file (or table) of a department and the hub table it is stored in."""

    department: str
    name: str
    table_name: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    lookups: tuple[str, ...] = ()
    checks: tuple[RowCheck, ...] = ()
    declared_on: sa.MetaData = field(default=metadata, repr=False, compare=False)
    """The metadata its store tables are declared on: the store's, which the migrations build; a department
    defined in a test keeps its own, so that it never joins the store's tables."""
    table: sa.Table = field(init=False, repr=False, compare=False)
    """The current records: one row per record key, as the latest export (or change) left it."""
    history: sa.Table = field(init=False, repr=False, compare=False)
    """Every version no longer current: superseded by a changed row, or closed by an export that lacked it."""
    _plan: tuple[tuple[str, Parser, bool], ...] = field(init=False, repr=False, compare=False)
    _names: tuple[str, ...] = field(init=False, repr=False, compare=False)
    _key_indices: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        # A spec is a key of the read paths' caches (one look-up per batch and per record list): hashing
        # every column on each would cost more than the look-up saves. Equal specs share these two.
        return hash((self.department, self.name))

    def __post_init__(self) -> None:
        names = {column.name for column in self.columns}
        missing = [name for name in (*self.key, *self.lookups) if name not in names]
        if missing:
            raise ValueError(f"{self.department}/{self.name}: key or lookup columns {missing} undeclared")
        object.__setattr__(self, "table", _store_table(self))
        object.__setattr__(self, "_plan", tuple((c.native, c.parse, c.required) for c in self.columns))
        object.__setattr__(self, "_names", tuple(column.name for column in self.columns))
        object.__setattr__(self, "_key_indices", tuple(self._names.index(name) for name in self.key))
        object.__setattr__(self, "history", _history_table(self))

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"

    @property
    def required_headers(self) -> tuple[str, ...]:
        return tuple(column.native for column in self.columns)

    def parse(self, raw: Mapping[str, str | None]) -> dict[str, Any]:
        """Validate and translate one native row; raise RowError naming the column and the fault."""
        staged = self.parse_cells([raw.get(column.native) for column in self.columns])
        row = dict(zip(self.staged_names[1:-1], staged[1:-1], strict=True))
        row["record_key"], row["row_hash"] = staged[0], staged[-1]
        return row

    @property
    def staged_names(self) -> tuple[str, ...]:
        """The names of what `parse_cells` returns, in its order: the record key, the columns, the row hash."""
        return ("record_key", *(column.name for column in self.columns), "row_hash")

    def parse_cells(self, cells: Sequence[str | None]) -> tuple[Any, ...]:
        """`parse` of the cells in the order of `columns`, as a tuple in the order of `staged_names`.

        The bulk import's form: no dict per row unless a cross-column check needs one, and each
        column's parser looked up once per file, not once per cell.
        """
        values: list[Any] = []
        append = values.append
        for (native, parse, required), cell in zip(self._plan, cells, strict=True):
            if cell:
                cell = cell.strip()
            if not cell:
                if required:
                    raise RowError(f"column {native}: required value is empty")
                append(None)
                continue
            try:
                append(parse(cell))
            except ValueError as error:
                raise RowError(f"column {native}: {error}") from None
        if self.checks:
            row = dict(zip(self._names, values, strict=True))
            for check in self.checks:
                reason = check(row)
                if reason is not None:
                    raise RowError(reason)
        data = ["" if value is None else str(value) for value in values]
        key = "|".join([data[index] for index in self._key_indices])
        digest = hashlib.blake2b("\x1f".join(data).encode(), digest_size=16).hexdigest()
        return (key, *values, digest)


def labelled(*, public: str = "", personal: str = "", sensitive: str = "") -> dict[str, Label]:
    """One type's fields by label, their GraphQL names separated by spaces: `labelled(personal="idNumber name")`."""
    by_label: dict[Label, str] = {"public": public, "personal": personal, "sensitive": sensitive}
    return {name: label for label, names in by_label.items() for name in names.split()}


@dataclass(frozen=True)
class Labels:
    """The sensitivity of a department's GraphQL fields, by their GraphQL names (auth.labels reads them).

    A test checks them against the schema: every field of its types labelled, nothing named that is not there.
    """

    records: Mapping[str, Mapping[str, Label]]
    """Record type -> its fields' labels: the types the policy is applied to, once per object."""
    part_types: Mapping[str, str] = field(default_factory=dict)
    """Holder (`Person`, `Household`) -> the type of the department's field on it (`person { disability }`):
    structure only, its fields lead to the records."""
    part_label: Label | None = None
    """The label of the department's field on every holder: what appearing in its records says of a resident."""
    identifies: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Type -> field -> the column holding the id of the resident the field identifies (a minor's identity is
    special). Fields masked as a resident id need no entry (`idNumber`: auth.labels finds them)."""

    def __post_init__(self) -> None:
        if bool(self.part_types) != (self.part_label is not None):
            raise ValueError("a department's field on Person / Household needs both its part types and its label")


@dataclass(frozen=True)
class Department:
    name: str
    encoding: str
    files: tuple[FileSpec, ...]
    labels: Labels = field(compare=False)

    @property
    def field_name(self) -> str:
        """The GraphQL name of its field on Person and Household: its name in camelCase (`civilAffairs`)."""
        first, *rest = self.name.split("_")
        return first + "".join(word.capitalize() for word in rest)

    def file(self, name: str) -> FileSpec:
        for spec in self.files:
            if spec.name == name:
                return spec
        raise KeyError(f"department {self.name} has no file {name!r}")


def _version_columns(spec: FileSpec) -> list[SchemaItem]:
    """A record's data and where it came from, the same in the current table and in its history.

    `as_of` is the as-of time of the export the record last came from (the GraphQL `source { asOf }`);
    `valid_from` that of the export in which this version first appeared; `ingest_run` the run that last saw it.
    """
    return [
        *(sa.Column(column.name, column.type, nullable=not column.required) for column in spec.columns),
        sa.Column("row_hash", sa.String(32), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ingest_run", sa.Integer, nullable=True),
    ]


def _store_table(spec: FileSpec) -> sa.Table:
    # Current and closed versions live in separate tables, so "current" is a table, not a predicate
    # every reader must remember: the batch reader, the eligibility SQL and the queries read only this one.
    columns: list[SchemaItem] = [sa.Column("record_key", sa.String(200), primary_key=True), *_version_columns(spec)]
    columns += [sa.Index(f"ix_{spec.table_name}_{name}", name) for name in spec.lookups]
    return sa.Table(spec.table_name, spec.declared_on, *columns)


def _history_table(spec: FileSpec) -> sa.Table:
    name = f"{spec.table_name}_history"
    return sa.Table(
        name,
        spec.declared_on,
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("record_key", sa.String(200), nullable=False),
        *_version_columns(spec),
        sa.Column("valid_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_by", sa.Integer, nullable=False),
        sa.Index(f"ix_{name}_record_key", "record_key"),
    )
