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

from adapters import civil_affairs, registry
from adapters import vocabulary as v
from resolvers.rules import dibao, regions, terms
from resolvers.rules.regions import EVERYWHERE, Region

SEED = 20260901
NANAN, ANXI, LICHENG = "350583", "350524", "350502"
WHOLE, SINGLE = v.DibaoCoverage.WHOLE_HOUSEHOLD.name, v.DibaoCoverage.SINGLE_PERSON.name


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


# --- dibao coverage --------------------------------------------------------------------------------

DAYS = [dt.date(2026, 3, 1), dt.date(2026, 9, 1), dt.date(2027, 2, 28)]


def _awards(rng: random.Random, persons: list[dict[str, Any]], homes: list[str]) -> list[dict[str, Any]]:
    awards: list[dict[str, Any]] = []

    def award(start: dt.date, end: dt.date | None, exit_until: dt.date | None, **who: Any) -> None:
        home = who.get("household_number") or rng.choice(homes)
        coverage = who.get("coverage") or rng.choice([WHOLE, SINGLE])
        named = who.get("id_number", rng.choice([None, *(p["id_number"] for p in persons)]))
        if coverage == SINGLE and named is None:
            named = rng.choice(persons)["id_number"]  # the ingest refuses a single-person award naming nobody
        key = f"A{len(awards):04d}"
        awards.append({"record_key": key, "household_number": home, "coverage": coverage, "id_number": named})
        awards[-1] |= {"start_date": start, "end_date": end, "gradual_exit_until": exit_until}

    base = dt.date(2026, 1, 1)
    for _ in range(50):
        start = base + dt.timedelta(days=rng.randint(-900, 400))
        end = rng.choice([None, start + dt.timedelta(days=rng.randint(0, 700))])
        exit_until = None if end is None or rng.random() < 0.4 else end + dt.timedelta(days=rng.randint(1, 365))
        award(start, end, exit_until)
    one = dt.timedelta(days=1)
    for day in DAYS:
        for coverage in (WHOLE, SINGLE):
            # starting on the day or the day after; ending on the day or the day before; a gradual exit
            # ending on the day or the day before, and a window that was never set
            award(day, None, None, coverage=coverage)
            award(day + one, None, None, coverage=coverage)
            award(day - 400 * one, day, None, coverage=coverage)
            award(day - 400 * one, day - one, None, coverage=coverage)
            award(day - 400 * one, day - 200 * one, day, coverage=coverage)
            award(day - 400 * one, day - 200 * one, day - one, coverage=coverage)
    return awards


def test_dibao_coverage_on_a_day_is_the_same_in_python_and_sql(engine: sa.Engine) -> None:
    # given persons in five households (one household has nobody registered) and awards of both kinds:
    # generated ones, and ones starting, ending and leaving gradual exit around the days asked
    rng = random.Random(SEED)
    homes = [f"{NANAN}{number:06d}" for number in range(1, 6)]
    people = [
        {"record_key": f"P{n:02d}", "id_number": f"P{n:02d}", "name": "张三", "household_number": rng.choice(homes[:4])}
        for n in range(14)
    ]
    awards = _awards(rng, people, homes)
    award, person = civil_affairs.DIBAO.table, registry.PERSONS.table
    with engine.begin() as connection:
        _store(connection, registry.PERSONS.table, people)
        _store(connection, award, awards)
        covered: set[bool] = set()
        for day in DAYS:
            # when each (award, person) pair is judged on each day
            on_day = sa.literal(day, sa.Date())
            ways = (dibao.covered_on_sql(award, way=w, person=person.c[w.shared], day=on_day) for w in dibao.WAYS)
            query = sa.select(award.c.record_key, person.c.id_number, sa.or_(*ways))
            rows = connection.execute(query.select_from(award.join(person, sa.true())))
            in_sql = {(key, id_number): bool(answer) for key, id_number, answer in rows}
            in_python = {
                (a["record_key"], p["id_number"]): dibao.covered_on(
                    a, id_number=p["id_number"], household_number=p["household_number"], day=day
                )
                for a in awards
                for p in people
            }
            # then the answers agree
            assert in_sql == in_python, day
            covered |= set(in_python.values())
    assert covered == {True, False}
