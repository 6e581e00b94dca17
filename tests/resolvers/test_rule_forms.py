"""Every shared rule answers alike in Python and in SQL, on the same generated records, on SQLite and PostgreSQL.

The records are drawn by a seeded generator (a failure is reproducible), with the edge cases added by
hand: at, just below and just above each threshold, at the 30% cap, with no counted income, on the
first and last day of an award and of its gradual-exit window. Each test also requires that the
records lead to every answer (true, false and, where a rule can say so, unknown), so that it cannot
pass on records that never reach a branch.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from adapters import registry
from resolvers.rules import regions, terms
from resolvers.rules.regions import EVERYWHERE, Region

SEED = 20260901
NANAN, ANXI, LICHENG = "350583", "350524", "350502"


def _store(connection: sa.Connection, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Records as the store holds them, written directly: the rules read nothing of how they were ingested."""
    stamp = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    filled = [{name: None for name in table.c.keys()} | {"row_hash": "-", "as_of": stamp} | dict(r) for r in rows]
    connection.execute(table.insert(), filled)


def _answers(connection: sa.Connection, query: sa.Select[Any]) -> dict[Any, Any]:
    """key -> answer, with SQLite's 0/1 read as booleans and NULL as None (unknown)."""
    return {row[0]: None if row[1] is None else bool(row[1]) for row in connection.execute(query)}


# --- regions ---------------------------------------------------------------------------------------

ASKED = [
    EVERYWHERE,
    Region("35"),
    Region.parse("350500"),  # all of 3505
    Region(NANAN),
    Region(f"{NANAN}101"),
    Region(f"{NANAN}101201"),
    Region.parse("350583101000"),  # the township
    Region("36"),
]


def test_a_region_covers_the_same_codes_in_python_and_sql(engine: sa.Engine) -> None:
    # given households with generated division codes, and codes at the edges of the regions asked
    rng = random.Random(SEED)
    counties = [NANAN, ANXI, LICHENG, "350100", "360102", "350584"]
    codes = {f"{rng.choice(counties)}{rng.choice(['101', '102', '201'])}{rng.randint(0, 999):03d}" for _ in range(150)}
    codes |= {f"{NANAN}000000", f"{NANAN}101000", f"{NANAN}101201", f"{NANAN}101202", "350599999999", "359999999999"}
    households = registry.HOUSEHOLDS.table
    column = households.c.region_code
    with engine.begin() as connection:
        _store(connection, households, [{"record_key": c, "household_number": c, "region_code": c} for c in codes])
        for inline in (False, True):
            # when each region, and sets of them, are asked in both forms
            for region in ASKED:
                in_sql = _answers(connection, sa.select(column, region.where(column, inline=inline)))
                # then they cover the same codes
                assert in_sql == {code: region.covers(code) for code in codes}, (region, inline)
            for group in ([], [Region("35"), Region("36")], [Region(f"{NANAN}101"), Region(ANXI)]):
                in_sql = _answers(connection, sa.select(column, regions.in_regions(column, group, inline=inline)))
                assert in_sql == {code: regions.covered(code, group) for code in codes}, (group, inline)
        # and a code's county is the same in both forms
        counties_sql = dict(connection.execute(sa.select(column, regions.county_sql(column))).all())
        assert counties_sql == {code: regions.county_of(code) for code in codes}
    assert {True, False} <= {region.covers(code) for region in ASKED for code in codes}


# --- terms -----------------------------------------------------------------------------------------


def test_a_term_starts_on_the_same_day_in_python_and_sql(engine: sa.Engine) -> None:
    # given stored terms: generated ones, and the edges of the year and of the format
    rng = random.Random(SEED)
    years = [rng.randint(1950, 2098) for _ in range(80)]
    texts = {f"{year}-{year + 1}-{rng.choice([1, 2])}" for year in years}
    texts |= {"0999-1000-1", "0999-1000-2", "2026-2027-1", "2026-2027-2", "2099-2100-1", "2099-2100-2"}
    table = sa.Table("rule_form_term", sa.MetaData(), sa.Column("term", sa.String(11), primary_key=True))
    with engine.begin() as connection:
        table.create(connection)
        connection.execute(table.insert(), [{"term": text} for text in texts])
        # when the start of each is computed in both forms
        in_sql = dict(connection.execute(sa.select(table.c.term, terms.start_sql(table.c.term))).all())
    # then the days agree: 1 September of the first year, 1 March of the second
    assert in_sql == {text: terms.term_start(text) for text in texts}
    assert {day.month for day in in_sql.values()} == {9, 3}
