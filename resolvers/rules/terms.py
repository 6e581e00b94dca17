"""School terms (docs/domain.md): `YYYY-YYYY-1` starts on 1 September of the first year, `YYYY-YYYY-2` on 1 March
of the second; as Python and as SQL over a column of terms."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

_TERM = re.compile(r"([0-9]{4})-([0-9]{4})-([12])")

STARTS: dict[int, tuple[int, int, int]] = {1: (0, 9, 1), 2: (1, 3, 1)}
"""The half of the school year -> (which of the term's two years, month, day) it starts on."""


@dataclass(frozen=True, order=True)
class Term:
    first_year: int
    half: int  # 1: autumn, 2: spring

    @classmethod
    def parse(cls, text: str) -> Term:
        """ASCII digits, consecutive years, half 1 or 2; anything else is refused with a message."""
        match = _TERM.fullmatch(text) if isinstance(text, str) else None
        if match is None or int(match[2]) != int(match[1]) + 1:
            raise ValueError(
                f"term {text!r} is not a school term: expected YYYY-YYYY-1 (autumn) or YYYY-YYYY-2 (spring) "
                "with consecutive years, e.g. 2026-2027-1"
            )
        return cls(int(match[1]), int(match[3]))

    def __str__(self) -> str:
        return f"{self.first_year:04d}-{self.first_year + 1:04d}-{self.half}"

    @property
    def start(self) -> dt.date:
        year, month, day = STARTS[self.half]
        return dt.date(self.first_year + year, month, day)


def term_start(term: str) -> dt.date:
    """The start date of a term given as text (ValueError, with a message, for anything else)."""
    return Term.parse(term).start


def start_sql(column: ColumnElement[Any]) -> ColumnElement[dt.date]:
    """The SQL form of `term_start`, for a column of terms that were checked when stored (as the
    education department's `xq` is at ingest): NULL for a half it does not know."""
    half = sa.func.substr(column, _integer(11), _integer(1), type_=sa.String())
    whens = []
    for number, (year, month, day) in STARTS.items():
        # Characters 1-4 hold the first year, 6-9 the second.
        first = sa.func.substr(column, _integer(1 + 5 * year), _integer(4), type_=sa.String())
        text = first.concat(sa.literal_column(f"'-{month:02d}-{day:02d}'", sa.String()))
        whens.append((half == sa.literal_column(f"'{number}'"), _IsoDate(text)))
    return sa.case(*whens)


class _IsoDate(ColumnElement[dt.date]):
    """A date from its ISO text: cast on PostgreSQL; the text itself on SQLite, which stores dates so."""

    inherit_cache = True
    type = sa.Date()
    _traverse_internals = [("text", InternalTraversal.dp_clauseelement)]

    def __init__(self, text: ColumnElement[Any]) -> None:
        self.text = text


@compiles(_IsoDate)
def _cast_to_date(element: _IsoDate, compiler: Any, **kw: Any) -> str:
    return f"CAST({compiler.process(element.text, **kw)} AS DATE)"


@compiles(_IsoDate, "sqlite")
def _iso_text(element: _IsoDate, compiler: Any, **kw: Any) -> str:
    return str(compiler.process(element.text, **kw))


def _integer(number: int) -> ColumnElement[Any]:
    return sa.literal_column(str(int(number)), sa.Integer())


def term_of(day: dt.date) -> Term:
    """The term a day falls in: from 1 September the autumn term of that school year, from 1 March the spring
    term, and in January and February still the autumn term of the year before."""
    if day >= dt.date(day.year, *STARTS[1][1:]):
        return Term(day.year, 1)
    if day >= dt.date(day.year, *STARTS[2][1:]):
        return Term(day.year - 1, 2)
    return Term(day.year - 1, 1)
