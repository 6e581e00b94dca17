"""Rule expressions: Python evaluates unknown values as SQL does."""

from __future__ import annotations

import datetime as dt

from resolvers.rules import expressions as e


def test_unknown_values_follow_sql_three_valued_logic() -> None:
    unknown, true, false = e.value("x", "date") < e.value("y", "date"), e.constant(1) < 2, e.constant(2) < 1
    values = {"x": None, "y": dt.date(2026, 9, 1)}
    assert e.evaluate(e.any_of(unknown, true), values) is True
    assert e.evaluate(e.any_of(unknown, false), values) is None
    assert e.evaluate(e.all_of(unknown, false), values) is False
    assert e.evaluate(e.not_(unknown), values) is None and not e.holds(unknown, values)
    # a CASE whose test is unknown takes its ELSE branch, as in SQL
    assert e.evaluate(e.least(e.value("n", "money"), 5), {"n": None}) == 5
