"""The term a day falls in, and age on a day: the comparison's defaults and its C7 boundary."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from resolvers.rules.ages import under_age, under_age_sql
from resolvers.rules.terms import term_of


@pytest.mark.parametrize(
    ("day", "term"),
    [
        (dt.date(2026, 9, 1), "2026-2027-1"),
        (dt.date(2026, 12, 1), "2026-2027-1"),
        (dt.date(2027, 2, 28), "2026-2027-1"),
        (dt.date(2027, 3, 1), "2026-2027-2"),
        (dt.date(2027, 8, 31), "2026-2027-2"),
    ],
)
def test_the_term_a_day_falls_in(day: dt.date, term: str) -> None:
    # given a day; when its term is asked; then autumn from 1 September, spring from 1 March
    assert str(term_of(day)) == term


@pytest.mark.parametrize(
    ("born", "expected"),
    [("2008-12-01", False), ("2008-12-02", True), ("2008-11-30", False)],
)
def test_under_18_on_a_day_in_python_and_sql_by_the_registry_or_the_id(born: str, expected: bool) -> None:
    # given a birth date around the 18th birthday on 1 December 2026, in the registry or only in the id
    day = dt.date(2026, 12, 1)
    birth = dt.date.fromisoformat(born)
    id_number = f"350583{birth:%Y%m%d}0011"
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:

        def sql(birth_date: dt.date | None) -> bool:
            query = sa.select(under_age_sql(sa.literal(birth_date, sa.Date()), sa.literal(id_number), day=day, age=18))
            return bool(connection.execute(query).scalar())

        # when it is judged in Python and in SQL; then both agree: 18 on the birthday, not under 18
        assert under_age(birth, id_number, day=day, age=18) is expected
        assert under_age(None, id_number, day=day, age=18) is expected
        assert sql(birth) is expected
        assert sql(None) is expected
