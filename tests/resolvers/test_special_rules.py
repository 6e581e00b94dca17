"""The special categories (minors, HIV): the rule's cases, and its Python and SQL forms agreeing on both backends."""

from __future__ import annotations

import datetime as dt
import random
import re
from pathlib import Path
from typing import Final

import pytest
import sqlalchemy as sa

from adapters.idnumber import check_char
from resolvers.rules.special import HIV_CODES, MINOR_AGE, hiv_condition, is_hiv, is_minor, minor_condition
from tests.test_packages import TOP_LEVEL

REPOSITORY = Path(__file__).resolve().parents[2]
TODAY = dt.date(2026, 12, 1)
# Days on which the fourteenth birthday is awkward: a leap day, the day after one, the turn of a year.
TODAYS: Final = (TODAY, dt.date(2024, 2, 29), dt.date(2026, 2, 28), dt.date(2026, 3, 1), dt.date(2027, 1, 1))


def _id(born: dt.date, sequence: int = 123) -> str:
    first17 = f"350583{born:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year without one
        return day.replace(year=day.year - years, day=28)


def generated_ids() -> list[str]:
    """Ids born on every day around each fourteenth birthday, on leap days, and at random over 80 years."""
    rng = random.Random("special-minors")
    births = {dt.date(2012, 2, 29), dt.date(2016, 2, 29), dt.date(2010, 2, 28), dt.date(2010, 3, 1)}
    for today in TODAYS:
        edge = _years_before(today, MINOR_AGE)
        births |= {edge + dt.timedelta(days=offset) for offset in range(-3, 4)} | {today, today - dt.timedelta(1)}
    births |= {dt.date(1946, 1, 1) + dt.timedelta(days=rng.randrange(30000)) for _ in range(300)}
    return [_id(born, rng.randrange(1000)) for born in sorted(births)]


def generated_codes() -> list[str]:
    """HIV codes written every way a department writes them, their neighbours, and random ICD-10 codes."""
    rng = random.Random("special-hiv")
    written = ["B20", "B20.1", "b20.1", "B201", " B24.9 ", "B22.7", "Z21", "z21", "R75", "O98.7", "O987", "o98.7"]
    written += ["O98.700x001", "B20.100", "B23.8"]
    neighbours = ["B19.9", "B18.1", "B25", "B2", "O98.1", "O98", "O98.8", "O9", "Z20.6", "Z22", "R74", "R76.0", "A20"]
    neighbours += ["I63.9", "", "  ", "HIV", "20B", "XB20", "B.20", "艾滋病", "ｂ20"]
    letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    tails = ("", ".{}", "{}", ".{}00")
    randoms = [
        f"{rng.choice(letters)}{rng.randrange(100):02d}" + rng.choice(tails).format(rng.randrange(10))
        for _ in range(500)
    ]
    return written + neighbours + randoms


# --- the rule's cases -------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["B20", "B20.1", "b20.1", "B201", "B24.9", "Z21", "R75", "O98.7", "O987", "O98.700"])
def test_hiv_codes_and_their_sub_codes_are_hiv(code: str) -> None:
    # given an HIV code of the list or below one, with or without its dot, in either case
    # then it is HIV
    assert is_hiv(code)


@pytest.mark.parametrize("code", ["B19.9", "B18.1", "B25", "O98.1", "O98", "O98.8", "Z20.6", "R74", "I63.9", "", None])
def test_other_codes_are_not_hiv(code: str | None) -> None:
    # given a neighbour of an HIV code (same chapter, same category O98, adjacent numbers), or nothing
    # then it is not HIV
    assert not is_hiv(code)


def test_the_list_is_that_of_seed_003() -> None:
    # given the one list, then it holds HIV disease, infection status, laboratory evidence and pregnancy
    assert HIV_CODES == ("B20", "B21", "B22", "B23", "B24", "Z21", "R75", "O98.7")


@pytest.mark.parametrize(
    ("born", "minor"),
    [
        (dt.date(2012, 12, 1), False),  # fourteen today
        (dt.date(2012, 12, 2), True),  # fourteen tomorrow
        (dt.date(2026, 12, 1), True),  # born today
        (dt.date(1980, 1, 1), False),
    ],
)
def test_a_minor_is_under_fourteen_on_the_day_asked(born: dt.date, minor: bool) -> None:
    # given an id born on a day around the fourteenth birthday, when judged on TODAY
    # then it is a minor until the birthday itself
    assert is_minor(_id(born), TODAY) is minor


def test_a_leap_day_child_turns_fourteen_on_the_first_of_march() -> None:
    # given a child born on 29 February 2012
    leap = _id(dt.date(2012, 2, 29))
    # then in 2026 (no 29 February) it is still a minor on the 28th and fourteen on 1 March
    assert is_minor(leap, dt.date(2026, 2, 28))
    assert not is_minor(leap, dt.date(2026, 3, 1))


@pytest.mark.parametrize("unreadable", ["35058320121302123X", "3505832012013", "35058320AB0101123X"])
def test_an_id_whose_birth_date_cannot_be_read_counts_as_a_minor(unreadable: str) -> None:
    # given text whose birth date digits are no date, then the stricter case holds
    assert is_minor(unreadable, TODAY)


# --- Python and SQL agree ---------------------------------------------------------------------

_probe = sa.Table(
    "special_rules_probe",
    sa.MetaData(),
    sa.Column("n", sa.Integer, primary_key=True),
    sa.Column("id_number", sa.String(18)),  # as the store's id columns
    sa.Column("diagnosis_code", sa.String(20)),
)


def _sql_answers(engine: sa.Engine, column: str, values: list[str | None], condition: sa.ColumnElement[bool]) -> list:
    with engine.begin() as connection:
        _probe.create(connection)
        connection.execute(_probe.insert(), [{"n": n, column: value} for n, value in enumerate(values)])
        rows = connection.execute(sa.select(_probe.c.n, condition).order_by(_probe.c.n)).all()
        _probe.drop(connection)
    return [bool(answer) if answer is not None else None for _, answer in rows]


def test_the_sql_minor_condition_selects_exactly_the_minors(engine: sa.Engine) -> None:
    # given ids born around every awkward fourteenth birthday, at random over 80 years, and a NULL
    values: list[str | None] = [*generated_ids(), None]
    for today in TODAYS:
        # when the SQL form is evaluated by the database, on each day
        sql = _sql_answers(engine, "id_number", values, minor_condition(_probe.c.id_number, today))
        # then it gives the Python form's answer for every id, and false (not NULL) for no id
        python = [value is not None and is_minor(value, today) for value in values]
        assert sql == python, today
        assert 0 < sum(python) < len(values)


def test_the_sql_hiv_condition_selects_exactly_the_hiv_codes(engine: sa.Engine) -> None:
    # given HIV codes in every spelling, their neighbours, random ICD-10 codes and a NULL
    values: list[str | None] = [*generated_codes(), None]
    # when the SQL form is evaluated by the database
    sql = _sql_answers(engine, "diagnosis_code", values, hiv_condition(_probe.c.diagnosis_code))
    # then it gives the Python form's answer for every value
    python = [is_hiv(value) for value in values]
    assert sql == python
    assert 15 <= sum(python) < len(values) / 2


# --- one home ---------------------------------------------------------------------------------

_HIV_CODE_TEXT = re.compile(r"\b(B2[0-4]|Z21|R75|O98\.?7)\b")
_PACKAGES: Final = TOP_LEVEL  # every package of ours, as tests/test_packages.py holds it to pyproject


def test_the_hiv_list_is_written_in_one_place() -> None:
    # given every source and policy file of the packages
    files = [path for package in _PACKAGES for path in (REPOSITORY / package).rglob("*.py")]
    files += [path for package in _PACKAGES for path in (REPOSITORY / package).rglob("*.yaml")]
    # when they are searched for an HIV code
    found = [
        path.relative_to(REPOSITORY).as_posix()
        for path in files
        if _HIV_CODE_TEXT.search(path.read_text(encoding="utf-8"))
    ]
    # then only the rule's own module names one
    assert found == ["resolvers/rules/special.py"]
