"""A rule written once as a small expression tree: evaluated in Python over one record, or compiled to SQL.

A rule module builds its definition from `value`, `constant` and the operators below; `evaluate`
gives the Python answer for one record and `to_sql` the SQLAlchemy expression over the columns the
caller names, so the two forms cannot drift apart.

Python follows SQL's three-valued logic: a missing value (None) makes arithmetic and comparisons
unknown (None), AND and OR treat unknown as SQL does, and a CASE whose test is unknown takes its
ELSE branch. A rule holds only where it is True, as a WHERE clause keeps only rows whose condition
is true.

Numbers are exact in both forms. Python computes with fractions. SQL never divides: a compiled number
carries its denominator (an integer times columns known to be positive) beside its numerator, sums
and comparisons are taken over a common denominator, and money is read in whole fen (SQLite's
NUMERIC is a binary float; in fen, sums and comparisons are whole numbers, exact there as well).
"""

from __future__ import annotations

import datetime as dt
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.visitors import InternalTraversal

Kind = Literal["money", "number", "date", "text"]
Columns = Mapping[str, Any]  # value name -> SQL expression


class Node:
    """One node of a rule; operators build larger ones (`==` is `equals`, so nodes stay hashable)."""

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        raise NotImplementedError

    def __add__(self, other: object) -> Node:
        return _Arithmetic("+", self, _node(other))

    def __sub__(self, other: object) -> Node:
        return _Arithmetic("-", self, _node(other))

    def __mul__(self, other: object) -> Node:
        return _Arithmetic("*", self, _node(other))

    def __truediv__(self, divisor: object) -> Node:
        """Division by a value that is always positive (a count of persons): SQL multiplies it out."""
        return _Arithmetic("/", self, _node(divisor))

    def __lt__(self, other: object) -> Node:  # type: ignore[override]
        return _Compare("<", self, _node(other))

    def __le__(self, other: object) -> Node:  # type: ignore[override]
        return _Compare("<=", self, _node(other))

    def __gt__(self, other: object) -> Node:  # type: ignore[override]
        return _Compare(">", self, _node(other))

    def __ge__(self, other: object) -> Node:  # type: ignore[override]
        return _Compare(">=", self, _node(other))

    def equals(self, other: object) -> Node:
        return _Compare("==", self, _node(other))

    def is_null(self) -> Node:
        return _IsNull(self)


@dataclass(frozen=True, eq=False)
class _Value(Node):
    name: str
    kind: Kind

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        found = values[self.name]
        if found is None or self.kind not in ("money", "number"):
            return found
        return Fraction(str(found)) if isinstance(found, float) else Fraction(found)


@dataclass(frozen=True, eq=False)
class _Constant(Node):
    value: Fraction | str | dt.date

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return self.value


@dataclass(frozen=True, eq=False)
class _Arithmetic(Node):
    op: Literal["+", "-", "*", "/"]
    left: Node
    right: Node

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        if left is None or right is None:
            return None
        if self.op == "/":
            if right <= 0:
                raise ValueError(f"a divisor of a rule must be positive, not {right}")
            return left / right
        return _ARITHMETIC[self.op](left, right)


@dataclass(frozen=True, eq=False)
class _Compare(Node):
    op: Literal["<", "<=", ">", ">=", "=="]
    left: Node
    right: Node

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        return None if left is None or right is None else _COMPARE[self.op](left, right)


@dataclass(frozen=True, eq=False)
class _Choose(Node):
    """least (`<=`) or greatest (`>`), written as SQL's CASE WHEN left op right THEN left ELSE right."""

    op: Literal["<=", ">"]
    left: Node
    right: Node

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        left, right = self.left.evaluate(values), self.right.evaluate(values)
        test = None if left is None or right is None else _COMPARE[self.op](left, right)
        return left if test is True else right


@dataclass(frozen=True, eq=False)
class _Coalesce(Node):
    first: Node
    otherwise: Node

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        found = self.first.evaluate(values)
        return self.otherwise.evaluate(values) if found is None else found


@dataclass(frozen=True, eq=False)
class _IsNull(Node):
    operand: Node

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        return self.operand.evaluate(values) is None


@dataclass(frozen=True, eq=False)
class _Logic(Node):
    op: Literal["and", "or", "not"]
    operands: tuple[Node, ...]

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        found = [operand.evaluate(values) for operand in self.operands]
        if self.op == "not":
            return None if found[0] is None else not found[0]
        decisive = self.op == "or"  # True decides an OR, False an AND
        if decisive in found:
            return decisive
        return None if None in found else not decisive


@dataclass(frozen=True, eq=False)
class _Apply(Node):
    """A function of one value that has a Python and a SQL form of its own (the county of a code...)."""

    name: str
    python: Callable[[Any], Any]
    sql: Callable[[Any], Any]
    operand: Node
    kind: Kind

    def evaluate(self, values: Mapping[str, Any]) -> Any:
        found = self.operand.evaluate(values)
        if found is None:
            return None
        return Fraction(self.python(found)) if self.kind == "number" else self.python(found)


_ARITHMETIC: dict[str, Callable[[Any, Any], Any]] = {"+": operator.add, "-": operator.sub, "*": operator.mul}
_COMPARE: dict[str, Callable[[Any, Any], Any]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
}


def value(name: str, kind: Kind) -> Node:
    """An input of the rule: a field of the record (Python) or the column the caller names (SQL)."""
    return _Value(name, kind)


def constant(literal: int | Decimal | Fraction | str | dt.date) -> Node:
    return _Constant(Fraction(literal) if isinstance(literal, int | Decimal) else literal)


def least(left: Node, right: object) -> Node:
    return _Choose("<=", left, _node(right))


def greatest(left: Node, right: object) -> Node:
    return _Choose(">", left, _node(right))


def coalesce(first: Node, otherwise: object) -> Node:
    return _Coalesce(first, _node(otherwise))


def all_of(*conditions: Node) -> Node:
    return _Logic("and", conditions)


def any_of(*conditions: Node) -> Node:
    return _Logic("or", conditions)


def not_(condition: Node) -> Node:
    return _Logic("not", (condition,))


def apply(name: str, python: Callable[[Any], Any], sql: Callable[[Any], Any], operand: Node, *, kind: Kind) -> Node:
    """A function with a Python and a SQL form of its own (the county of a division code, a year...),
    of a text or date operand; `kind` is what it returns."""
    return _Apply(name, python, sql, operand, kind)


def evaluate(node: Node, values: Mapping[str, Any]) -> Any:
    """The Python form: the node's value for one record (a Fraction for numbers, None when unknown)."""
    return node.evaluate(values)


def holds(node: Node, values: Mapping[str, Any]) -> bool:
    """Whether a condition is true for the record, as a WHERE clause would keep it (unknown: no)."""
    return node.evaluate(values) is True


def to_sql(node: Node, columns: Columns) -> ColumnElement[Any]:
    """The SQL form of a condition (or of a text or date value) over the columns named for the rule's values.

    A number has no SQL form of its own: SQL would have to divide. Compare it with another instead.
    """
    compiled = _compile(node, columns)
    if isinstance(compiled, _Number):
        raise TypeError("a number compiles only inside a comparison, where no division is needed")
    return compiled


def _node(item: object) -> Node:
    if isinstance(item, Node):
        return item
    if isinstance(item, int | Decimal | Fraction | str | dt.date):
        return constant(item)
    raise TypeError(f"{item!r} cannot be part of a rule")


# --- the SQL form --------------------------------------------------------------------------------


class fen(ColumnElement[Any]):  # noqa: N801 - read like the SQL it stands for
    """An amount in yuan, as whole fen."""

    inherit_cache = True
    type = sa.Numeric()
    _traverse_internals = [("amount", InternalTraversal.dp_clauseelement)]

    def __init__(self, amount: ColumnElement[Any]) -> None:
        self.amount = amount


@compiles(fen)
def _fen_of_numeric(element: fen, compiler: Any, **kw: Any) -> str:
    return f"({compiler.process(element.amount, **kw)} * 100)"  # NUMERIC: exact as it is


@compiles(fen, "sqlite")
def _fen_of_float(element: fen, compiler: Any, **kw: Any) -> str:
    # A stored 1234.56 is the nearest float; times 100 it lies far within half a fen of 123456.
    return f"CAST(ROUND({compiler.process(element.amount, **kw)} * 100) AS INTEGER)"


@dataclass(frozen=True)
class _Number:
    """coefficient x numerator / (product of divisors); a constant has no numerator, only its coefficient."""

    numerator: ColumnElement[Any] | None
    coefficient: Fraction
    divisors: tuple[ColumnElement[Any], ...] = ()

    def over(self, denominator: int, divisors: tuple[ColumnElement[Any], ...]) -> ColumnElement[Any]:
        """The SQL numerator that, over `denominator` times `divisors` (a multiple of this number's
        own denominator), is this number."""
        multiplier = self.coefficient * denominator
        assert multiplier.denominator == 1, "the common denominator is a multiple of every coefficient's"
        if self.numerator is None:
            result: ColumnElement[Any] = _integer(multiplier.numerator)
        elif multiplier == 1:
            result = self.numerator
        else:
            result = self.numerator * _integer(multiplier.numerator)
        for divisor in _without(divisors, self.divisors):
            result = result * divisor
        return result


def _without(divisors: tuple[ColumnElement[Any], ...], taken: tuple[ColumnElement[Any], ...]) -> list[Any]:
    rest = list(divisors)
    for divisor in taken:
        found = next((i for i, other in enumerate(rest) if other.compare(divisor)), None)
        if found is not None:
            rest.pop(found)
    return rest


def _integer(number: int) -> ColumnElement[Any]:
    # Inline, as the rules' other constants: a statement without parameters plans with real values.
    return sa.literal_column(str(int(number)), sa.Integer())


def _common(left: _Number, right: _Number) -> tuple[ColumnElement[Any], ColumnElement[Any], Fraction, tuple[Any, ...]]:
    """Both numbers over one denominator: their SQL numerators, 1 / the integer part, the divisors."""
    denominator = math.lcm(left.coefficient.denominator, right.coefficient.denominator)
    divisors = (*left.divisors, *_without(right.divisors, left.divisors))
    return left.over(denominator, divisors), right.over(denominator, divisors), Fraction(1, denominator), divisors


def _compile(node: Node, columns: Columns) -> Any:
    if isinstance(node, _Value):
        column = columns[node.name]
        if node.kind == "money":
            return _Number(fen(column), Fraction(1, 100))
        return _Number(column, Fraction(1)) if node.kind == "number" else column
    if isinstance(node, _Constant):
        if isinstance(node.value, Fraction):
            return _Number(None, node.value)
        # Rendered into the SQL text at execution: PostgreSQL then plans with the real value.
        return sa.literal(node.value, sa.Date() if isinstance(node.value, dt.date) else None, literal_execute=True)
    if isinstance(node, _Arithmetic):
        return _arithmetic(node.op, _compile(node.left, columns), _compile(node.right, columns))
    if isinstance(node, _Compare | _Choose | _Coalesce):
        first, second = (node.first, node.otherwise) if isinstance(node, _Coalesce) else (node.left, node.right)
        left, right = _compile(first, columns), _compile(second, columns)
        if not isinstance(left, _Number):
            return _plain(node, left, right)
        # A positive common denominator: comparing the numerators compares the numbers.
        left_sql, right_sql, coefficient, divisors = _common(left, right)
        if isinstance(node, _Compare):
            return _COMPARE[node.op](left_sql, right_sql)
        return _Number(_plain(node, left_sql, right_sql), coefficient, divisors)
    if isinstance(node, _IsNull):
        operand = _compile(node.operand, columns)
        if isinstance(operand, _Number):
            operand = operand.over(operand.coefficient.denominator, operand.divisors)
        return operand.is_(None)
    if isinstance(node, _Logic):
        return _LOGIC[node.op](*(_compile(operand, columns) for operand in node.operands))
    if isinstance(node, _Apply):
        applied = node.sql(_compile(node.operand, columns))
        return _Number(applied, Fraction(1)) if node.kind == "number" else applied
    raise TypeError(f"{node!r} is not a rule node")


def _plain(node: _Compare | _Choose | _Coalesce, left: Any, right: Any) -> ColumnElement[Any]:
    if isinstance(node, _Compare):
        return _COMPARE[node.op](left, right)
    if isinstance(node, _Coalesce):
        return sa.func.coalesce(left, right)
    return sa.case((_COMPARE[node.op](left, right), left), else_=right)


_LOGIC: dict[str, Callable[..., ColumnElement[bool]]] = {"and": sa.and_, "or": sa.or_, "not": sa.not_}


def _arithmetic(op: str, left: _Number, right: _Number) -> _Number:
    if left.numerator is None and right.numerator is None:
        return _Number(
            None,
            _ARITHMETIC[op](left.coefficient, right.coefficient) if op != "/" else left.coefficient / right.coefficient,
        )
    if op in "+-":
        left_sql, right_sql, coefficient, divisors = _common(left, right)
        return _Number(_ARITHMETIC[op](left_sql, right_sql), coefficient, divisors)
    if op == "/":
        if right.numerator is None:
            return _Number(left.numerator, left.coefficient / right.coefficient, left.divisors)
        # a / (c x n) = (a / c) / n: the divisor's expression joins the denominator, never divided by.
        assert not right.divisors, "a divisor is a count, times or over constants"
        return _Number(left.numerator, left.coefficient / right.coefficient, (*left.divisors, right.numerator))
    if right.numerator is None:
        return _Number(left.numerator, left.coefficient * right.coefficient, left.divisors)
    if left.numerator is None:
        return _Number(right.numerator, left.coefficient * right.coefficient, right.divisors)
    return _Number(
        left.numerator * right.numerator, left.coefficient * right.coefficient, left.divisors + right.divisors
    )
