"""Every shared rule answers alike in Python and in SQL, on the same generated records, on SQLite and PostgreSQL.

The records are drawn by a seeded generator (a failure is reproducible), with the edge cases added by
hand: at, just below and just above each threshold, at the 30% cap, with no counted income, on the
first and last day of an award and of its gradual-exit window. Each test also requires that the
records lead to every answer (true, false and, where a rule can say so, unknown), so that it cannot
pass on records that never reach a branch.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
from collections.abc import Iterable, Mapping
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from adapters import civil_affairs, registry
from adapters import vocabulary as v
from resolvers.rules import dibao, income, regions, terms
from resolvers.rules import expressions as e
from resolvers.rules.regions import EVERYWHERE, Region

SEED = 20260901
NANAN, ANXI, LICHENG = "350583", "350524", "350502"
WHOLE, SINGLE = v.DibaoCoverage.WHOLE_HOUSEHOLD.name, v.DibaoCoverage.SINGLE_PERSON.name
URBAN, RURAL = v.ResidenceKind.URBAN.name, v.ResidenceKind.RURAL.name
CENT = Decimal("0.01")


def _store(connection: sa.Connection, table: sa.Table, rows: Iterable[Mapping[str, Any]]) -> None:
    """Records as the store holds them, written directly: the rules read nothing of how they were ingested."""
    stamp = dt.datetime(2026, 9, 1, tzinfo=dt.UTC)
    provenance = {"row_hash": "-", "as_of": stamp, "valid_from": stamp}
    filled = [{name: None for name in table.c.keys()} | provenance | dict(r) for r in rows]
    connection.execute(table.insert(), filled)


def _answers(connection: sa.Connection, query: sa.Select[Any]) -> dict[Any, Any]:
    """key -> answer, with SQLite's 0/1 read as booleans and NULL as None (unknown)."""
    return {row[0]: None if row[1] is None else bool(row[1]) for row in connection.execute(query)}


def _money(rng: random.Random, low: int, high: int) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) * CENT


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


# --- the income assessment -------------------------------------------------------------------------

STANDARDS = {(NANAN, 2026, URBAN): Decimal("930.00"), (NANAN, 2026, RURAL): Decimal("850.55")}
STANDARDS |= {(NANAN, 2025, URBAN): Decimal("900.10"), (ANXI, 2026, URBAN): Decimal("800.01")}
STANDARDS |= {(LICHENG, 2025, RURAL): Decimal("777.77")}  # no urban standard in 鲤城区; no 2025 for Anxi


class Checks:
    """Households and their economic checks: generated ones, and one household per edge case."""

    def __init__(self) -> None:
        self.households: list[dict[str, Any]] = []
        self.checks: list[dict[str, Any]] = []

    def household(self, county: str, kind: str | None) -> str:
        number = f"H{len(self.households):05d}"
        self.households.append({"record_key": number, "household_number": number, "region_code": f"{county}101201"})
        self.households[-1]["residence_kind"] = kind
        return number

    def check(self, household: str, day: dt.date, persons: int, annual_income: Decimal, **amounts: Any) -> None:
        self.checks.append(
            {
                "record_key": f"{household}|{day}",
                "household_number": household,
                "checked_on": day,
                "persons": persons,
                "annual_income": annual_income,
                **{name: amounts.get(name) for name in ("medical_expense", "education_expense", "employment_cost")},
                "basic_pension": amounts.get("basic_pension"),
            }
        )


def _generated(rng: random.Random, world: Checks) -> None:
    for _ in range(60):
        home = world.household(rng.choice([NANAN, ANXI, LICHENG]), rng.choice([URBAN, URBAN, RURAL, None]))
        for day in rng.sample([dt.date(2025, 3, 1), dt.date(2025, 11, 20), dt.date(2026, 6, 30)], rng.randint(1, 3)):
            amounts = {
                name: rng.choice([None, _money(rng, 0, 5000), _money(rng, 0, 40000)])
                for name in ("medical_expense", "education_expense", "employment_cost", "basic_pension")
            }
            world.check(home, day, rng.choice([1, 2, 3, 4, 6, 99]), _money(rng, 0, 150000), **amounts)


def _edges(rng: random.Random, world: Checks) -> None:
    day = dt.date(2026, 6, 30)
    standard = STANDARDS[(NANAN, 2026, URBAN)]
    for times, persons, step, _draw in itertools.product((1, 2), (1, 3, 7), (-1, 0, 1), range(4)):
        # per-capita monthly income at, a fen below and a fen above the standard (times 1 or 2), less
        # amounts in fen drawn at random: most of them a binary float cannot hold exactly
        pension, medical, education = (_money(rng, 0, 5000) for _ in range(3))
        net = standard * times * persons * 12 + step * CENT
        world.check(
            world.household(NANAN, URBAN),
            day,
            persons,
            net + pension + medical + education,
            basic_pension=pension,
            medical_expense=medical,
            education_expense=education,
        )
    for counted in (Decimal("1000.10"), Decimal("33333.30"), Decimal("0.10")):
        for step in (-1, 0, 1):
            # the employment cost at, a fen below and a fen above 30% of the counted income
            cost = counted * Decimal("0.3") + step * CENT
            world.check(
                world.household(NANAN, URBAN), day, 2, counted + 100, basic_pension=Decimal(100), employment_cost=cost
            )
    # no counted income (the pension is the whole income), with and without costs; less than none
    world.check(world.household(NANAN, URBAN), day, 1, Decimal("1500.00"), basic_pension=Decimal("1500.00"))
    world.check(
        world.household(NANAN, RURAL),
        day,
        2,
        Decimal("1500.00"),
        basic_pension=Decimal("1500.00"),
        employment_cost=Decimal(9),
    )
    world.check(world.household(NANAN, URBAN), day, 1, Decimal("0.00"), medical_expense=Decimal("10.00"))
    world.check(world.household(NANAN, URBAN), day, 1, Decimal("100.00"), basic_pension=Decimal("300.00"))


def _standard_rows() -> list[dict[str, Any]]:
    return [
        {"record_key": f"{county}|{year}|{kind}", "county_code": county, "year": year, "residence_kind": kind}
        | {"monthly_standard": amount}
        for (county, year, kind), amount in STANDARDS.items()
    ]


# The conditions compared; each with its Python form for one check and the standard that applies.
INCOME_CONDITIONS = {
    "below standard": (
        income.BELOW_STANDARD,
        lambda check, standard: income.assess(check, standard=standard).below_standard,
    ),
    "below twice the standard": (
        income.BELOW_TWICE_STANDARD,
        lambda check, standard: income.assess(check, standard=standard).below_twice_standard,
    ),
    "employment cost capped": (
        income.CAP_APPLIED,
        lambda check, standard: income.assess(check, standard=standard).cap_applied,
    ),
    "net income above zero": (
        income.COUNTED_INCOME > income.DEDUCTIONS,
        lambda check, standard: e.evaluate(income.COUNTED_INCOME > income.DEDUCTIONS, check),
    ),
}


def test_the_income_assessment_gives_the_same_verdicts_in_python_and_sql(engine: sa.Engine) -> None:
    # given households, the dibao standards, and generated and edge-case checks
    world = Checks()
    _generated(random.Random(SEED), world)
    _edges(random.Random(SEED), world)
    households, checks = registry.HOUSEHOLDS.table, civil_affairs.ECONOMIC_CHECK.table
    standards = civil_affairs.DIBAO_STANDARD.table
    with engine.begin() as connection:
        _store(connection, households, world.households)
        _store(connection, standards, _standard_rows())
        _store(connection, checks, world.checks)
        standard = income.standard_sql(standards, household=households, checked_on=checks.c.checked_on)
        joined = checks.join(households, households.c.household_number == checks.c.household_number)
        verdicts = {}
        for name, (condition, python) in INCOME_CONDITIONS.items():
            # when each verdict is computed in SQL, and in Python with the standard Python finds
            query = sa.select(checks.c.record_key, income.condition_sql(condition, checks, standard=standard))
            in_sql = _answers(connection, query.select_from(joined))
            in_python = {}
            for check in world.checks:
                home = next(h for h in world.households if h["household_number"] == check["household_number"])
                found = income.standard_for(_standard_rows(), household=home, check=check)
                in_python[check["record_key"]] = python(check, found)
            # then every check gets the same verdict
            assert in_sql == in_python, name
            verdicts[name] = set(in_python.values())
    assert all({True, False} <= answers for answers in verdicts.values()), verdicts
    # and some checks had no standard to be compared with (no standard for the county, year or kind)
    assert None in verdicts["below standard"]


def test_the_latest_check_on_a_day_is_the_same_in_python_and_sql(engine: sa.Engine) -> None:
    # given households with up to three checks each
    world = Checks()
    _generated(random.Random(SEED), world)
    checks = civil_affairs.ECONOMIC_CHECK.table
    days = sorted({check["checked_on"] for check in world.checks})
    days += [day + dt.timedelta(days=step) for day in days for step in (-1, 1)] + [dt.date(2020, 1, 1)]
    with engine.begin() as connection:
        _store(connection, checks, world.checks)
        for day in days:
            # when the check that decides on each day (a check's own day, the days either side) is found
            query = sa.select(checks.c.record_key).where(
                income.latest_check_sql(checks, day=sa.literal(day, sa.Date()))
            )
            in_sql = set(connection.execute(query).scalars())
            in_python = set()
            for home in world.households:
                own = [check for check in world.checks if check["household_number"] == home["household_number"]]
                latest = income.latest_check(own, day=day)
                if latest is not None:
                    in_python.add(latest["record_key"])
            # then it is the same one
            assert in_sql == in_python, day


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
