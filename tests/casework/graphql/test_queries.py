"""casework.queries on SQLite and PostgreSQL: `overdue` as SQL agrees with the lifecycle's own rule at its edge,
and a look-up by id outside the prefixes answers as for an id never issued."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from casework import lifecycle, queries
from tests.casework.graphql.ledger import make_alert, make_item, make_run

NOW = dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)


def test_overdue_in_sql_is_the_lifecycles_overdue_at_and_around_the_deadline(engine: sa.Engine) -> None:
    # given alerts due a second ago, exactly now and in a second, and one due long ago but acknowledged
    due = {
        "late": NOW - dt.timedelta(seconds=1),
        "now": NOW,
        "soon": NOW + dt.timedelta(seconds=1),
    }
    ids = {
        name: make_alert(
            engine,
            kind="MEDICAL_COSTS",
            household="350583000001",
            region_code="350583101201",
            raised_at=at - lifecycle.ACKNOWLEDGE_WITHIN,
        )
        for name, at in due.items()
    }
    answered = make_alert(
        engine,
        kind="MEDICAL_COSTS",
        household="350583000001",
        region_code="350583101201",
        raised_at=NOW - dt.timedelta(days=3),
        status=lifecycle.ACKNOWLEDGED,
    )
    with engine.connect() as connection:
        # when the list is filtered on overdue as of now
        found = queries.alerts_page(
            connection, prefixes=["3505"], status=None, kind=None, overdue=True, now=NOW, after=None, limit=10
        )
        rest = queries.alerts_page(
            connection, prefixes=["3505"], status=None, kind=None, overdue=False, now=NOW, after=None, limit=10
        )
    # then it holds exactly those the lifecycle calls overdue: due before now, and still RAISED
    python_form = {name for name, at in due.items() if lifecycle.overdue(status=lifecycle.RAISED, due=at, now=NOW)}
    assert {row["id"] for row in found} == {ids[name] for name in python_form} == {ids["late"]}
    assert {row["id"] for row in rest} == {ids["now"], ids["soon"], answered}


def test_an_item_outside_the_prefixes_is_none_like_one_never_issued(engine: sa.Engine) -> None:
    # given an item of another county
    run = make_run(engine)
    outside = make_item(engine, run, rule="C1", household="350524000001", region_code="350524101001")
    with engine.connect() as connection:
        # then for a Nanan caller it is not there, as an id nobody was given, and for the city it is
        assert queries.item(connection, outside, prefixes=["350583"]) is None
        assert queries.item(connection, outside + 1000, prefixes=["350583"]) is None
        assert queries.item(connection, outside, prefixes=["3505"]) is not None
        # and nor is it among the run's items for that caller
        items = queries.run_items_page(
            connection, run, prefixes=["350583"], rule=None, status=None, after=None, limit=10
        )
        assert items == []
