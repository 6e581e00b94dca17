"""Regions: a division-code prefix (GB/T 2260) and the codes inside it, as Python and as SQL.

A client's regions, an asked `region` argument and a subscription's regions are all prefixes:
`35` is Fujian, `3505` Quanzhou, `350583` Nan'an, `350583101` one of its townships; the empty
prefix is everywhere (the hub's own computations). A household lies in a region when its 12-digit
division code starts with the prefix.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

COUNTY = 6
"""Digits of a division code that name its county."""

_DIGITS = re.compile(r"[0-9]{0,12}")


@dataclass(frozen=True, order=True)
class Region:
    """Every division code that starts with `prefix` (up to 12 ASCII digits; empty: everywhere)."""

    prefix: str

    def __post_init__(self) -> None:
        # Digits only, so that the prefix can never be read as a LIKE pattern (`%`, `_`).
        if not isinstance(self.prefix, str) or not _DIGITS.fullmatch(self.prefix):
            raise ValueError(f"region {self.prefix!r} is not a division-code prefix (up to 12 digits)")

    @classmethod
    def parse(cls, text: str) -> Region:
        """A region as a caller names it: a division code or prefix of 2 (province) to 12 (village) digits.

        `350500` means all of `3505` (see `of`).
        """
        if not (isinstance(text, str) and 2 <= len(text) <= 12 and text.isascii() and text.isdigit()):
            raise ValueError(f"{text!r} is not a division code or prefix (2 to 12 digits, e.g. 350583)")
        return cls.of(text)

    @classmethod
    def of(cls, code: str) -> Region:
        """The region a division code stands for: trailing zero levels name the level above.

        `350000` (Fujian) -> `35`, `350500` (Quanzhou) -> `3505`, `350583000000` (Nan'an) -> `350583`,
        `350583101000` (a township) -> `350583101`. Only a whole code (6 or 12 digits) is read so; a prefix
        given as such (`3505`, `350`) is kept as it is.
        """
        if len(code) in (6, 12):
            for cut in (9, 6, 4, 2):
                if cut < len(code) and code[cut:] == "0" * (len(code) - cut):
                    code = code[:cut]
        return cls(code)

    def __str__(self) -> str:
        return self.prefix

    def covers(self, code: str | None) -> bool:
        """Whether a division code (or a smaller region's prefix) lies inside this region."""
        return code is not None and code.startswith(self.prefix)

    def contains(self, other: Region) -> bool:
        return self.covers(other.prefix)

    def overlaps(self, other: Region) -> bool:
        return self.contains(other) or other.contains(self)

    def intersection(self, other: Region) -> Region | None:
        """The codes in both: the smaller region when one holds the other, None when they are apart."""
        if self.contains(other):
            return other
        return self if other.contains(self) else None

    def within(self, regions: Iterable[Region]) -> list[Region]:
        """The parts of this region inside `regions`, in prefix order: all of it when one of them holds it,
        else those of them that lie inside it (none: nothing of it is inside)."""
        found = set()
        for region in regions:
            if region.contains(self):
                return [self]
            if self.contains(region):
                found.add(region)
        return sorted(found)

    def where(self, column: sa.ColumnElement[Any], *, inline: bool = False) -> sa.ColumnElement[bool]:
        """`column LIKE 'prefix%'`, which an index on the column serves (under the C collation).

        `inline` renders the pattern into the statement's text at execution: the store's PostgreSQL
        sessions force generic plans, and a generic plan can neither serve `LIKE $1` from the index
        nor judge how much of the table a prefix selects.
        """
        pattern = f"{self.prefix}%"
        if inline:
            return column.like(sa.literal(pattern, sa.String(), literal_execute=True))
        return column.like(pattern)


EVERYWHERE = Region("")


def covered(code: str | None, regions: Iterable[Region]) -> bool:
    """Whether a division code lies inside one of the regions."""
    return any(region.covers(code) for region in regions)


def in_regions(
    column: sa.ColumnElement[Any], regions: Sequence[Region], *, inline: bool = False
) -> sa.ColumnElement[bool]:
    """The SQL form of `covered`: the column's code lies in one of the regions; no region matches nothing
    (a caller who may see none of the asked region sees an empty one)."""
    return sa.or_(sa.false(), *(region.where(column, inline=inline) for region in regions))


def county_of(code: str) -> str:
    """The county of a division code (6 digits or more), e.g. `350583` for `350583101201`."""
    return code[:COUNTY]


def county_sql(column: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The SQL form of `county_of`."""
    return sa.func.substr(column, _integer(1), _integer(COUNTY))


def _integer(number: int) -> sa.ColumnElement[Any]:
    return sa.literal_column(str(int(number)), sa.Integer())
